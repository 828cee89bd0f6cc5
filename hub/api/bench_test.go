package api

import "testing"

// BenchmarkParseCommand reads a kiosk's offline ticket, the largest command
// a device sends every day, text check included.
func BenchmarkParseCommand(b *testing.B) {
	payload := []byte(`{"id":"0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b","op":"issue_ticket","args":{"service":"E","priority":"priority",` +
		`"lang":"fr","offline_number":903,"issued_at":"2026-11-17T09:41:07.123+01:00","token":"AAAAAAAAAAAAAAAAAAAAAA",` +
		`"replaces":"0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6a"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, _, err := ParseCommand(payload); err != nil {
			b.Fatal(err)
		}
	}
}
