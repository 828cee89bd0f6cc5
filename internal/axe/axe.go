// Package axe checks a page's accessibility in a browser test: it injects
// axe-core (from npm, installed by scripts/test-deps.sh) into the page
// open in a chromedp tab and runs it. A missing axe-core fails the test:
// make test installs it.
package axe

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Violation is one rule a page breaks, as axe-core reports it.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"` // minor, moderate, serious, critical
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var where []string
	for _, n := range v.Nodes {
		where = append(where, fmt.Sprint(n.Target))
	}
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, ", "))
}

// script returns axe-core's source, from the repository's node_modules.
func script(t testing.TB) string {
	t.Helper()
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(d, "internal", "axe", "node_modules", "axe-core", "axe.min.js"))
			if err != nil {
				t.Fatalf("axe-core is not installed (%v): run make test, or scripts/test-deps.sh", err)
			}
			return string(b)
		}
	}
	t.Fatal("no go.mod above the test's directory")
	return ""
}

// Run runs axe-core on the page open in ctx and returns its violations.
func Run(t testing.TB, ctx context.Context) []Violation {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Evaluate[any](script(t)+";0")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	res, err := chromedp.Run(c, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(res), &vs); err != nil {
		t.Fatalf("axe-core's answer: %v", err)
	}
	return vs
}

// Serious fails the test for every serious or critical violation on the
// page open in ctx, and logs the others.
func Serious(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	for _, v := range Run(t, ctx) {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s", page, v)
		} else {
			t.Logf("%s (not serious): %s", page, v)
		}
	}
}
