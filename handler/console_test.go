package handler_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// consoleGet fetches a console path without following redirects.
func consoleGet(t *testing.T, base, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestConsoleServesItsFiles(t *testing.T) {
	e := newEnv(t, "sqlite")

	resp, _ := consoleGet(t, e.srv.URL, "/console")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("GET /console = %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, p := range []string{"/console/", "/console/index.html"} {
		resp, body := consoleGet(t, e.srv.URL, p)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s = %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(body, `<script type="module" src="js/app.js"></script>`) || !strings.Contains(body, "SCRM 控制台") {
			t.Fatalf("GET %s: not the console page: %.200s", p, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Fatalf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Fatalf("GET %s: CSP %q allows inline or eval", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-cache" ||
			resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: headers %v", p, resp.Header)
		}
	}

	for path, ctype := range map[string]string{
		"/console/js/app.js":      "text/javascript; charset=utf-8",
		"/console/js/channels.js": "text/javascript; charset=utf-8",
		"/console/console.css":    "text/css; charset=utf-8",
	} {
		resp, body := consoleGet(t, e.srv.URL, path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype || len(body) < 100 {
			t.Fatalf("GET %s = %d %q (%d bytes)", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET %s: headers %v", path, resp.Header)
		}
		// A browser holding the current version gets 304.
		again, _ := consoleGet(t, e.srv.URL, path, "If-None-Match", resp.Header.Get("ETag"))
		if again.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s with its ETag = %d, want 304", path, again.StatusCode)
		}
	}

	// Missing files, directories and escapes are 404 in the API's error shape;
	// nothing lists a directory.
	for _, p := range []string{"/console/missing.js", "/console/js/", "/console/js", "/console/js/nope.js",
		"/console/js/../index.html", "/console/%2e%2e/console.go", "/console/..%2fconsole.go", "/console/console"} {
		resp, body := consoleGet(t, e.srv.URL, p)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMovedPermanently {
			t.Fatalf("GET %s = %d, want 404: %.200s", p, resp.StatusCode, body)
		}
		if resp.StatusCode == http.StatusNotFound && !strings.Contains(body, `"not_found"`) {
			t.Fatalf("GET %s: body %.200s", p, body)
		}
		if strings.Contains(body, "app.js") || strings.Contains(body, "<a href") {
			t.Fatalf("GET %s: looks like a listing: %.200s", p, body)
		}
	}

	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+"/console/", nil)
	head, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("HEAD /console/ = %d %q", head.StatusCode, head.Header.Get("Content-Type"))
	}
}

// TestConsoleSourcesWriteNoHTML guards the console's rule that data reaches
// the page only as text: no script writes HTML, no page has inline script or
// style (the CSP would block them anyway), nothing comes from another origin.
func TestConsoleSourcesWriteNoHTML(t *testing.T) {
	html := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment`)
	remote := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//|@import|url\(\s*['"]?(https?:)?//`)
	var files int
	err := filepath.WalkDir("console", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(b)
		files++
		if loc := html.FindStringIndex(s); loc != nil {
			t.Errorf("%s writes HTML: %q", p, s[loc[0]:loc[1]])
		}
		if loc := remote.FindStringIndex(s); loc != nil {
			t.Errorf("%s loads from another origin: %q", p, s[loc[0]:loc[1]])
		}
		if strings.HasSuffix(p, ".html") {
			if regexp.MustCompile(`<script(?:\s+type="module")?>|<style|\sstyle=|\son[a-z]+=`).MatchString(s) {
				t.Errorf("%s has inline script, style or an event handler attribute", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("found %d console files", files)
	}
}
