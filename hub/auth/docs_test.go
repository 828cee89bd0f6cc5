package auth_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

var update = flag.Bool("update", false, "rewrite the route table of docs/accounts.md")

const (
	tableBegin = "<!-- routes: generated from the route table by hub/auth/docs_test.go (go test ./hub/auth -run Doc -update) -->"
	tableEnd   = "<!-- routes: end -->"
)

// who says in words who passes an access.
var who = map[auth.Access]string{
	auth.Public:      "anyone",
	auth.Integration: "integration token, supervisor, admin",
	auth.Agent:       "agent, supervisor, admin",
	auth.Supervisor:  "supervisor, admin",
	auth.Admin:       "admin (and the admin token)",
	auth.Device:      "a registered device (its id and secret), admin",
}

// docs/accounts.md shows who may use every route, as the route table
// declares it: a route added, or its access changed, and the doc is out
// of date until -update writes it again.
func TestAccountsDocShowsTheRouteTable(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	var b strings.Builder
	b.WriteString(tableBegin + "\n\n| method | route | kind | who may | what |\n|---|---|---|---|---|\n")
	for _, rt := range s.API.Routes() {
		kind := "API"
		if rt.Kind == auth.Page {
			kind = "page"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", rt.Method, rt.Pattern, kind, who[rt.Access], rt.About)
	}
	b.WriteString("\n" + tableEnd)
	path := filepath.Join("..", "..", "docs", "accounts.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), tableBegin)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no generated route table (markers %q … %q)", path, tableBegin, tableEnd)
	}
	want := before + b.String() + after
	if want == string(doc) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("docs/accounts.md's route table is not the hub's: run go test ./hub/auth -run Doc -update, and read the change")
}
