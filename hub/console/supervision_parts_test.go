package console

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every member of the supervision's view is a part of its stream, and
// every part is drawn by the page: a member added to the view and not to
// the parts (or to the page's sections) would never reach the page.
func TestEveryPartOfTheSupervisionViewReachesThePage(t *testing.T) {
	var names []string
	for _, p := range (SupervisionView{}).parts() {
		names = append(names, p.Name)
	}
	typ := reflect.TypeOf(SupervisionView{})
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if !slices.Contains(names, tag) {
			t.Errorf("the view's %s (%q) is not a part of the stream", typ.Field(i).Name, tag)
		}
	}
	if len(names) != typ.NumField() {
		t.Errorf("%d parts for %d members of the view: %q", len(names), typ.NumField(), names)
	}
	js, err := static.ReadFile("static/supervision.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const sections = \{(.*?)\};`).FindSubmatch(js)
	if m == nil {
		t.Fatal("supervision.js has no sections table")
	}
	drawn := map[string]bool{}
	for _, k := range regexp.MustCompile(`(\w+):\s*render\w+`).FindAllSubmatch(m[1], -1) {
		drawn[string(k[1])] = true
	}
	for _, n := range names {
		if !drawn[n] {
			t.Errorf("the part %q is not drawn by supervision.js", n)
		}
	}
}
