package main

import (
	"flag"
	"slices"
	"testing"
)

// Flags after the positional arguments are moved before them, with their
// values; a boolean flag takes none; "--" keeps what follows as arguments.
func TestFlagsFirstMovesFlagsWithTheirValues(t *testing.T) {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.String("dir", "", "")
	fs.Bool("start", false, "")
	for _, c := range []struct{ in, want []string }{
		{[]string{"https://hub", "CODE", "--dir", "/tmp/g", "--start"}, []string{"--dir", "/tmp/g", "--start", "--", "https://hub", "CODE"}},
		{[]string{"--start", "https://hub", "--dir=/x", "CODE"}, []string{"--start", "--dir=/x", "--", "https://hub", "CODE"}},
		{[]string{"https://hub", "--", "-CODE"}, []string{"--", "https://hub", "-CODE"}},
		{[]string{"--start", "CODE"}, []string{"--start", "--", "CODE"}},
	} {
		if got := flagsFirst(fs, c.in); !slices.Equal(got, c.want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if err := fs.Parse(flagsFirst(fs, []string{"https://hub", "--", "-CODE"})); err != nil || !slices.Equal(fs.Args(), []string{"https://hub", "-CODE"}) {
		t.Fatalf("a code starting with '-' after --: %v, args %q", err, fs.Args())
	}
}
