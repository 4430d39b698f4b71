package explain

import (
	"strings"
	"testing"
)

// The catalogue: every form has its English and Chinese text, every
// parameter its texts name is one its pattern captures, and no two forms
// share a code.
func TestCatalogueIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, family := range [][]messageForm{scoreForms, stageForms, timelineForms, lossForms, alertForms, errorForms, reasonForms, failureForms} {
		for _, f := range family {
			if seen[f.code] {
				t.Errorf("code %s twice", f.code)
			}
			seen[f.code] = true
			names := map[string]bool{}
			for _, n := range f.pattern.SubexpNames() {
				names[n] = true
			}
			for _, lang := range []string{LangEN, LangZH} {
				text := f.texts[lang]
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s has no %s text", f.code, lang)
				}
				for _, p := range placeholder.FindAllStringSubmatch(text, -1) {
					if !names[p[1]] {
						t.Errorf("%s (%s) names {%s}, which its pattern does not capture", f.code, lang, p[1])
					}
					if p[2] != "" && p[2] != "failure" && terms[p[2]] == nil {
						t.Errorf("%s (%s) names the unknown list %q", f.code, lang, p[2])
					}
				}
			}
		}
	}
}
