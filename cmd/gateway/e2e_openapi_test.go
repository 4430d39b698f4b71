package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/leadgate/scrm-gateway/docs"
	"github.com/leadgate/scrm-gateway/service/auth"
)

// The e2e tests hold every admin-API answer and every webhook body they see
// to docs/openapi.json, with a maintained JSON Schema validator.

const openapiURL = "https://gateway.test/openapi.json"

var contract = sync.OnceValues(func() (*openapiContract, error) {
	b, err := docs.OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(openapiURL, doc); err != nil {
		return nil, err
	}
	oc := &openapiContract{raw: b, doc: doc.(map[string]any), compiler: c, compiled: map[string]*jsonschema.Schema{}}
	for p := range oc.doc["paths"].(map[string]any) {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$")
		oc.paths = append(oc.paths, pathTemplate{template: p, re: re})
	}
	// A literal path wins over a template that also matches it
	// (/webhook-deliveries/replay, not /webhook-deliveries/{id}).
	sort.Slice(oc.paths, func(i, j int) bool {
		return strings.Count(oc.paths[i].template, "{") < strings.Count(oc.paths[j].template, "{")
	})
	return oc, nil
})

type pathTemplate struct {
	template string
	re       *regexp.Regexp
}

type openapiContract struct {
	raw      []byte
	doc      map[string]any
	paths    []pathTemplate
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		t = strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
		b.WriteString("/" + strings.NewReplacer("{", "%7B", "}", "%7D").Replace(t))
	}
	return b.String()
}

func (oc *openapiContract) schema(ptr string) (*jsonschema.Schema, error) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if s, ok := oc.compiled[ptr]; ok {
		return s, nil
	}
	s, err := oc.compiler.Compile(openapiURL + "#" + ptr)
	if err == nil {
		oc.compiled[ptr] = s
	}
	return s, err
}

// checkResponse validates an admin-API answer against the operation the
// document gives for its method and path.
func checkResponse(t *testing.T, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	path, _, _ = strings.Cut(path, "?")
	if ctype, _, _ := strings.Cut(header.Get("Content-Type"), ";"); ctype == "application/json" && path != "/api/v1/openapi.json" {
		checkTimestamps(t, method+" "+path, body)
	}
	var tmpl string
	for _, p := range oc.paths {
		if p.re.MatchString(path) {
			tmpl = p.template
			break
		}
	}
	op, _ := oc.doc["paths"].(map[string]any)[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if op == nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("openapi: %s %s answered %d but is not documented", method, path, status)
		}
		return
	}
	code := strconv.Itoa(status)
	responses := op["responses"].(map[string]any)
	if _, ok := responses[code]; !ok {
		if status < 400 {
			t.Errorf("openapi: %s %s answered %d, not a documented status", method, tmpl, status)
			return
		}
		code = "default"
	}
	content, _ := responses[code].(map[string]any)["content"].(map[string]any)
	if content == nil {
		if len(body) > 0 {
			t.Errorf("openapi: %s %s %d has a body the document does not describe", method, tmpl, status)
		}
		return
	}
	ctype, _, _ := strings.Cut(header.Get("Content-Type"), ";")
	if ctype != "application/json" {
		if content[ctype] == nil {
			t.Errorf("openapi: %s %s %d answered %s, documented %v", method, tmpl, status, ctype, keys(content))
		}
		return
	}
	if content["application/json"] == nil {
		t.Errorf("openapi: %s %s %d answered JSON, documented %v", method, tmpl, status, keys(content))
		return
	}
	validateAt(t, oc, pointer("paths", tmpl, strings.ToLower(method), "responses", code, "content", "application/json", "schema"),
		method+" "+tmpl+" "+code, body)
}

// checkWebhook validates a webhook body against the document's webhooks.
func checkWebhook(t *testing.T, typ string, body []byte) {
	t.Helper()
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	checkTimestamps(t, "webhook "+typ, body)
	if oc.doc["webhooks"].(map[string]any)[typ] == nil {
		t.Errorf("openapi: webhook %s is not documented", typ)
		return
	}
	validateAt(t, oc, pointer("webhooks", typ, "post", "requestBody", "content", "application/json", "schema"), "webhook "+typ, body)
}

func validateAt(t *testing.T, oc *openapiContract, ptr, what string, body []byte) {
	t.Helper()
	s, err := oc.schema(ptr)
	if err != nil {
		t.Errorf("openapi: %s: %v", what, err)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("openapi: %s: not JSON: %v", what, err)
		return
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("openapi: %s does not match the document: %v\n%s", what, err, clip(body))
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Every route of the admin API is in the document, and every documented
// operation is served; the document is served without a token, bundled.
func TestOpenAPIDocumentsEveryRouteAndIsServed(t *testing.T) {
	e := startE2E(t, "sqlite")
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range e.gw.handler.(*gin.Engine).Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		p := regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(r.Path, "{$1}")
		served[strings.ToLower(r.Method)+" "+p] = true
	}
	documented := map[string]bool{}
	for p, item := range oc.doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			documented[m+" "+p] = true
		}
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("docs/openapi.json is out of step with the router:\nserved, not documented: %v\ndocumented, not served: %v", missing, extra)
	}
	resp, err := http.Get(e.base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, oc.raw) || strings.Contains(string(body), "webhooks/") {
		t.Fatalf("GET /api/v1/openapi.json without a token: %d, %d bytes, bundled: %v", resp.StatusCode, len(body), !strings.Contains(string(body), "webhooks/"))
	}
	// Every schema of the document compiles, references included.
	for name := range oc.doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if _, err := oc.schema(pointer("components", "schemas", name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}

// Every JSON success answer and every request body of the API has a real
// schema (its members named, not a bare object), and every time the answers or payloads carry
// is a Timestamp: RFC 3339 UTC with milliseconds, by its pattern.
func TestOpenAPISchemasAreRealAndTimesAreTimestamps(t *testing.T) {
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	schemas := oc.doc["components"].(map[string]any)["schemas"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		for s["$ref"] != nil {
			s = schemas[strings.TrimPrefix(s["$ref"].(string), "#/components/schemas/")].(map[string]any)
		}
		return s
	}
	// Schemas only read from requests, where any RFC 3339 time is taken.
	inputs := map[string]bool{"TokenSpec": true, "LeadPatch": true, "CRMAnswer": true, "WebhookEndpointSpec": true}
	for p, item := range oc.doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			if rb, ok := op.(map[string]any)["requestBody"].(map[string]any); ok {
				for ctype, c := range rb["content"].(map[string]any) {
					if s := resolve(c.(map[string]any)["schema"].(map[string]any)); s["properties"] == nil {
						t.Errorf("%s %s: the %s body's schema names no members: %v", m, p, ctype, s)
					}
				}
			}
			for code, r := range op.(map[string]any)["responses"].(map[string]any) {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				js, _ := content["application/json"].(map[string]any)
				if js == nil || !strings.HasPrefix(code, "2") {
					continue
				}
				s := resolve(js["schema"].(map[string]any))
				if s["properties"] == nil && s["items"] == nil && s["oneOf"] == nil && s["anyOf"] == nil && s["allOf"] == nil {
					t.Errorf("%s %s %s: the answer's schema names no members: %v", m, p, code, s)
				}
			}
		}
	}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k, s := range props {
					b, _ := json.Marshal(s)
					if isTimeKey(k) && !strings.Contains(string(b), `"#/components/schemas/Timestamp"`) &&
						!strings.Contains(string(b), strings.ReplaceAll(timestampRE.String(), `\`, `\\`)) {
						t.Errorf("%s.%s is a time but not a Timestamp: %s", where, k, b)
					}
				}
			}
			for k, c := range x {
				walk(where+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s/%d", where, i), c)
			}
		}
	}
	for name, s := range schemas {
		if !inputs[name] {
			walk(name, s)
		}
	}
	for p, item := range oc.doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			walk(m+" "+p, op.(map[string]any)["responses"])
		}
	}
	walk("webhooks", oc.doc["webhooks"])
}

// x-roles in the document are the roles the router lets through: each
// operation is called with a token of every role (a staff token linked to its
// userid), with ids that do not exist so that nothing changes, and a role is
// let through when any of the operation's calls is answered other than 403.
// Where a query decides the role (the crm role lists leads only through the
// change feed), the operation is called with each form.
func TestOpenAPIRolesAreTheRoutersRoles(t *testing.T) {
	e := startE2E(t, "sqlite")
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	issuer := auth.New(e.gw.store, e.clock)
	tokens := map[string]string{auth.RoleAdmin: e.token}
	for _, role := range []string{auth.RoleViewer, auth.RoleCRM} {
		tokens[role], _, _ = issuer.CreateToken(ctx, role, role)
	}
	tokens[auth.RoleStaff], _, _ = issuer.CreateTokenFor(ctx, "zhangsan", auth.RoleStaff, "zhangsan")
	queries := map[string][]string{
		"get /api/v1/leads": {"", "?updated_after=2026-01-01T00:00:00.000Z"},
	}
	fill := strings.NewReplacer("{id}", "999999", "{name}", "heap")
	checked := 0
	for p, item := range oc.doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			want, ok := op.(map[string]any)["x-roles"].([]any)
			if !ok {
				if p != "/api/v1/openapi.json" {
					t.Errorf("%s %s has no x-roles", m, p)
				}
				continue
			}
			qs := queries[m+" "+p]
			if qs == nil {
				qs = []string{""}
			}
			var got []string
			for _, role := range []string{auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer, auth.RoleCRM} {
				for _, q := range qs {
					var body any
					if m != "get" && m != "delete" {
						body = map[string]any{}
					}
					if st := e.api(strings.ToUpper(m), fill.Replace(p)+q, body, nil, tokens[role]); st != http.StatusForbidden {
						got = append(got, role)
						break
					}
				}
			}
			var documented []string
			for _, r := range want {
				documented = append(documented, r.(string))
			}
			slices.Sort(got)
			slices.Sort(documented)
			if !slices.Equal(got, documented) {
				t.Errorf("%s %s: x-roles %v, the router lets %v through", strings.ToUpper(m), p, documented, got)
			}
			checked++
		}
	}
	if checked < 80 {
		t.Fatalf("checked %d operations", checked)
	}
}
