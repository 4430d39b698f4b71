// Package docs holds the published contract of the gateway: the OpenAPI 3.1
// document of the admin API and its webhooks (openapi.json), and the JSON
// Schemas of the webhook payloads (webhooks/*.json), embedded so the gateway
// serves them as they are written here.
package docs

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

//go:embed openapi.json webhooks/*.json
var files embed.FS

// OpenAPI returns the OpenAPI document with the webhook schemas bundled in:
// each docs/webhooks/<name>.json becomes components/schemas/<name> and every
// reference to such a file points there, so the document stands alone.
func OpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := readJSON("openapi.json", &doc); err != nil {
		return nil, err
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if schemas == nil {
		return nil, fmt.Errorf("openapi.json: no components.schemas")
	}
	entries, err := files.ReadDir("webhooks")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		var s map[string]any
		if err := readJSON(path.Join("webhooks", e.Name()), &s); err != nil {
			return nil, err
		}
		// The bundled copy is a part of this document, not a resource of
		// its own: its base and dialect are the document's.
		delete(s, "$id")
		delete(s, "$schema")
		schemas[name] = rewriteRefs(s, name)
	}
	doc = rewriteRefs(doc, "").(map[string]any)
	return json.MarshalIndent(doc, "", "  ")
}

// rewriteRefs points $refs into components/schemas: "webhooks/x.json" (from
// the document) and "x.json" (between schemas) to the bundled x, and, in
// the schema bundled as self, "#/$defs/..." to its own definitions.
func rewriteRefs(v any, self string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				v[k] = bundledRef(s, self)
				continue
			}
			v[k] = rewriteRefs(x, self)
		}
	case []any:
		for i := range v {
			v[i] = rewriteRefs(v[i], self)
		}
	}
	return v
}

func bundledRef(ref, self string) string {
	file, frag, _ := strings.Cut(ref, "#")
	file = strings.TrimPrefix(file, "webhooks/")
	switch {
	case file == "" && self == "":
		return ref
	case file == "":
		file = self
	case strings.HasSuffix(file, ".json"):
		file = strings.TrimSuffix(file, ".json")
	default:
		return ref
	}
	return "#/components/schemas/" + file + frag
}

func readJSON(name string, v any) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("docs/%s: %w", name, err)
	}
	return nil
}
