package link

import (
	"fmt"
	"testing"
)

// Below its bound the inbox hands over every retained message in order;
// past it, a stuck follower's oldest messages of the same topic go, never
// another topic's.
func TestTheInboxKeepsEveryMessageUntilItsBoundThenTheNewest(t *testing.T) {
	in := newInbox()
	in.state("config", []byte("c"))
	for i := 0; i < maxRetained+10; i++ {
		in.state("board", []byte(fmt.Sprint(i)))
	}
	stop := make(chan struct{})
	topic, p, _ := in.nextState(stop)
	if topic != "config" || string(p) != "c" {
		t.Fatalf("first %s %s: the other topic's message was dropped", topic, p)
	}
	first := -1
	n := 0
	for len(in.retained) > 0 {
		_, p, _ := in.nextState(stop)
		var x int
		fmt.Sscan(string(p), &x)
		if first < 0 {
			first = x
		} else if x != first+n {
			t.Fatalf("message %d after %d: out of order or a gap", x, first+n-1)
		}
		n++
	}
	if n != maxRetained-1 || first+n-1 != maxRetained+9 {
		t.Fatalf("%d board messages kept, from %d: want the newest %d", n, first, maxRetained-1)
	}
}
