package cloud_test

import (
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

func sdkEvent(t *testing.T, b []byte) event.Event {
	t.Helper()
	var ce event.Event
	if err := json.Unmarshal(b, &ce); err != nil {
		t.Fatalf("the SDK cannot read %s: %v", b, err)
	}
	if err := ce.Validate(); err != nil {
		t.Fatalf("the SDK finds %s invalid: %v", b, err)
	}
	return ce
}
