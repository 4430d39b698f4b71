package docs

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The prose (API.md, WEBHOOKS.md) and the OpenAPI document say the same:
// the same operations, each with the same roles, the same webhook events,
// each with its schema file, and the same payload version.

var (
	routeRE   = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?\\s]*)")
	braceRE   = regexp.MustCompile(`\{([a-z]+(?:,[a-z]+)+)\}`)
	paramRE   = regexp.MustCompile(`:[a-z_]+|\{[a-z_]+\}`)
	roleRE    = regexp.MustCompile("\\(role `([a-z]+)`\\)")
	roleWords = []string{"admin", "staff", "viewer", "crm"}
)

// routesIn lists the operations a text names ("post /api/v1/tokens/{}"),
// expanding {channel,group,store}-codes.
func routesIn(text string) []string {
	var out []string
	for _, m := range routeRE.FindAllStringSubmatch(text, -1) {
		paths := []string{m[2]}
		if b := braceRE.FindStringSubmatchIndex(m[2]); b != nil {
			paths = nil
			for _, alt := range strings.Split(m[2][b[2]:b[3]], ",") {
				paths = append(paths, m[2][:b[0]]+alt+m[2][b[1]:])
			}
		}
		for _, p := range paths {
			out = append(out, strings.ToLower(m[1])+" "+paramRE.ReplaceAllString(p, "{}"))
		}
	}
	return out
}

// proseRoles reads a Markdown file's route references: for each operation,
// the roles it is said to allow. A section headed "(role `admin`)" or
// "(every role)" gives its role to every operation it names; elsewhere a
// table row names an operation in its first cell and its roles in the second
// ("read roles" being admin, staff and viewer). Operations named only in the
// prose of other sections are in mentioned, without roles.
func proseRoles(t *testing.T, file string) (roles map[string]map[string]bool, mentioned map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	roles, mentioned = map[string]map[string]bool{}, map[string]bool{}
	var section []string
	add := func(op string, rs []string) {
		if roles[op] == nil {
			roles[op] = map[string]bool{}
		}
		for _, r := range rs {
			roles[op][r] = true
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = nil
			if m := roleRE.FindStringSubmatch(line); m != nil {
				section = []string{m[1]}
			} else if strings.Contains(line, "(every role)") {
				section = roleWords
			}
		}
		ops := routesIn(line)
		for _, op := range ops {
			mentioned[op] = true
		}
		switch {
		case len(ops) == 0:
		case section != nil:
			for _, op := range ops {
				add(op, section)
			}
		case strings.HasPrefix(line, "| "):
			cells := strings.Split(line, " | ")
			if len(cells) < 3 || len(routesIn(cells[0])) == 0 {
				continue
			}
			var rs []string
			if strings.Contains(cells[1], "read roles") {
				rs = append(rs, "admin", "staff", "viewer")
			}
			for _, w := range regexp.MustCompile(`[a-z]+`).FindAllString(cells[1], -1) {
				if slices.Contains(roleWords, w) {
					rs = append(rs, w)
				}
			}
			for _, op := range routesIn(cells[0]) {
				add(op, rs)
			}
		}
	}
	return roles, mentioned
}

func readOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := readJSON("openapi.json", &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Every operation of openapi.json is in API.md's reference with the roles
// its x-roles list, and every operation the prose names is in openapi.json.
func TestAPIProseAndOpenAPINameTheSameRoutesAndRoles(t *testing.T) {
	doc := readOpenAPI(t)
	documented := map[string][]string{}
	for p, item := range doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			var rs []string
			xr, _ := op.(map[string]any)["x-roles"].([]any)
			for _, r := range xr {
				rs = append(rs, r.(string))
			}
			if p == "/api/v1/openapi.json" {
				rs = nil // no token
			}
			sort.Strings(rs)
			documented[m+" "+paramRE.ReplaceAllString(p, "{}")] = rs
		}
	}
	apiRoles, apiMentioned := proseRoles(t, "API.md")
	hookRoles, hookMentioned := proseRoles(t, "WEBHOOKS.md")
	for file, mentioned := range map[string]map[string]bool{"API.md": apiMentioned, "WEBHOOKS.md": hookMentioned} {
		for op := range mentioned {
			if _, ok := documented[op]; !ok {
				t.Errorf("%s names %s, which openapi.json does not have", file, op)
			}
		}
	}
	for op, want := range documented {
		if !apiMentioned[op] {
			t.Errorf("openapi.json has %s, which API.md does not name", op)
			continue
		}
		if want == nil {
			continue
		}
		for file, roles := range map[string]map[string]map[string]bool{"API.md": apiRoles, "WEBHOOKS.md": hookRoles} {
			said, ok := roles[op]
			if !ok {
				if file == "API.md" {
					t.Errorf("API.md names %s but says no roles for it (a table row's second cell, or a section's \"(role `x`)\")", op)
				}
				continue
			}
			var got []string
			for r := range said {
				got = append(got, r)
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s says roles %v, openapi.json x-roles %v", op, file, got, want)
			}
		}
	}
	if len(documented) < 80 || len(apiRoles) < 80 {
		t.Fatalf("read %d operations from openapi.json, %d with roles from API.md", len(documented), len(apiRoles))
	}
}

// WEBHOOKS.md, openapi.json's webhooks and docs/webhooks/ hold the same
// events at the version WEBHOOKS.md calls current: each event of the
// document has its schema file, linked from WEBHOOKS.md, whose version is
// that one.
func TestWebhookProseSchemasAndOpenAPIHoldTheSameEvents(t *testing.T) {
	b, err := os.ReadFile("WEBHOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	prose := string(b)
	m := regexp.MustCompile(`The current and only version is \*\*(\d+)\*\*`).FindStringSubmatch(prose)
	if m == nil {
		t.Fatal("WEBHOOKS.md does not say which payload version is current")
	}
	version, _ := strconv.Atoi(m[1])
	linked := map[string]bool{}
	for _, l := range regexp.MustCompile(`\]\(webhooks/([a-z_]+\.[a-z_]+)\.v(\d+)\.json\)`).FindAllStringSubmatch(prose, -1) {
		if l[2] != m[1] {
			t.Errorf("WEBHOOKS.md links %s at version %s; the current version is %d", l[1], l[2], version)
		}
		linked[l[1]] = true
	}
	doc := readOpenAPI(t)
	var events []string
	for typ, item := range doc["webhooks"].(map[string]any) {
		events = append(events, typ)
		file := fmt.Sprintf("webhooks/%s.v%d.json", typ, version)
		ref := item.(map[string]any)["post"].(map[string]any)["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"]
		if ref != file {
			t.Errorf("openapi.json webhook %s refers to %v, want %s", typ, ref, file)
		}
		var schema struct {
			Title      string `json:"title"`
			Properties struct {
				Type    struct{ Const string }
				Version struct{ Const int }
			} `json:"properties"`
		}
		if err := readJSON(file, &schema); err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if schema.Properties.Type.Const != typ || schema.Properties.Version.Const != version {
			t.Errorf("%s: type %q, version %d; want %q, %d", file, schema.Properties.Type.Const, schema.Properties.Version.Const, typ, version)
		}
		if !linked[typ] {
			t.Errorf("WEBHOOKS.md does not link the schema of %s", typ)
		}
		delete(linked, typ)
	}
	delete(linked, "lead") // the lead every lead.* event carries, not an event
	for typ := range linked {
		t.Errorf("WEBHOOKS.md links %s, which openapi.json's webhooks do not have", typ)
	}
	entries, err := files.ReadDir("webhooks")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		typ := strings.TrimSuffix(e.Name(), fmt.Sprintf(".v%d.json", version))
		if typ != "lead" && !slices.Contains(events, typ) {
			t.Errorf("docs/webhooks/%s is in no webhook of openapi.json", e.Name())
		}
	}
	if len(events) < 10 {
		t.Fatalf("openapi.json has %d webhooks", len(events))
	}
}
