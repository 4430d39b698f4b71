package handler

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The scan finds the blocks the pattern it replaced found: each opening tag
// to the first closing tag of either kind, none for an unclosed block.
func TestInlineBlocksMatchTheirPattern(t *testing.T) {
	pattern := regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)
	pages := []string{
		"",
		"<p>no blocks</p>",
		"<style>a{}</style><script>var x=1</script>",
		"<script>1</script><script>2</script><style>3</style>",
		"<script>if (a<b) { s = '</p>' }\n</script>",
		"<script>first</style> after",
		"<style>unclosed",
		"<script></script>",
		"<script type=x>not inline</script><style>b{}</style>",
		"<script><style>inner</style></script>",
		strings.Repeat("<li>店 1 号 <a href=x>地图</a></li>\n", 300) + "<script>late()</script>",
	}
	for i, page := range pages {
		var want []string
		for _, m := range pattern.FindAllSubmatch([]byte(page), -1) {
			want = append(want, string(m[1])+":"+string(m[2]))
		}
		var got []string
		inlineBlocks([]byte(page), func(kind string, content []byte) { got = append(got, kind+":"+string(content)) })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("page %d: blocks %q, want %q", i, got, want)
		}
	}
}

func TestLandingCSPAllowsOnlyThePagesOwnBlocks(t *testing.T) {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	csp := landingCSP([]byte("<style>b{}</style><p>x</p><script>go()</script><script>two()</script>"))
	for _, want := range []string{
		"script-src " + hash("go()") + " " + hash("two()") + ";",
		"style-src " + hash("b{}") + ";",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if csp := landingCSP([]byte("<p>plain</p>")); !strings.Contains(csp, "script-src 'none'; style-src 'none'") {
		t.Errorf("a page without blocks: %q", csp)
	}
}
