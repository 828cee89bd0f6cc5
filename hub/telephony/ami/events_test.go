package ami

import (
	"fmt"
	"strings"
)

// Event texts as Asterisk 22 sends them (headers trimmed to what matters,
// in the recording's order), for scripted servers.

func callerHeaders(uid, num, channel string) string {
	return fmt.Sprintf("Channel: %s\nChannelState: 6\nChannelStateDesc: Up\nCallerIDNum: %s\nCallerIDName: <unknown>\nContext: incoming\nExten: 600\nPriority: 2\nUniqueid: %s\nLinkedid: %s\n",
		channel, num, uid, uid)
}

func trunk(uid string) string { return "PJSIP/trunk-" + strings.ReplaceAll(uid, ".", "") }

func joinEv(uid, num, queue string) string {
	return "Event: QueueCallerJoin\nPrivilege: agent,all\n" + callerHeaders(uid, num, trunk(uid)) + fmt.Sprintf("Queue: %s\nPosition: 1\nCount: 1\n\n", queue)
}

func calledEv(uid, dest, iface, queue string) string {
	return "Event: AgentCalled\nPrivilege: agent,all\n" + callerHeaders(uid, "0600000000", trunk(uid)) +
		fmt.Sprintf("DestChannel: %s-0000000a;1\nDestUniqueid: %s\nDestLinkedid: %s\nQueue: %s\nInterface: %s\nMemberName: %s\n\n", iface, dest, uid, queue, iface, iface)
}

func dialEndEv(uid, dest, status string) string {
	return "Event: DialEnd\nPrivilege: call,all\n" + callerHeaders(uid, "0600000000", trunk(uid)) +
		fmt.Sprintf("DestChannel: x\nDestUniqueid: %s\nDestLinkedid: %s\nDialStatus: %s\n\n", dest, uid, status)
}

func leaveEv(uid, queue string) string {
	return "Event: QueueCallerLeave\nPrivilege: agent,all\n" + callerHeaders(uid, "0600000000", trunk(uid)) + fmt.Sprintf("Queue: %s\nPosition: 1\nCount: 0\n\n", queue)
}

func connectEv(uid, dest, iface, queue string, hold int) string {
	return "Event: AgentConnect\nPrivilege: agent,all\n" + callerHeaders(uid, "0600000000", trunk(uid)) +
		fmt.Sprintf("DestChannel: x\nDestUniqueid: %s\nDestLinkedid: %s\nQueue: %s\nInterface: %s\nMemberName: %s\nHoldTime: %d\nRingTime: 1\n\n", dest, uid, queue, iface, iface, hold)
}

func hangupEv(uid, cause string) string {
	return "Event: Hangup\nPrivilege: call,all\n" + callerHeaders(uid, "0600000000", trunk(uid)) + fmt.Sprintf("Cause: %s\nCause-txt: x\n\n", cause)
}

// queueMemberItem is a QueueStatus item: Name and Location, not
// MemberName and Interface.
func queueMemberItem(queue, iface string, paused, inCall bool, status int) string {
	return fmt.Sprintf("Event: QueueMember\nQueue: %s\nName: %s\nLocation: %s\nStateInterface: %s\nMembership: static\nPenalty: 0\nCallsTaken: 0\nLastCall: 0\nLastPause: 0\nLoginTime: 1795334981\nInCall: %d\nStatus: %d\nPaused: %d\nPausedReason: \nWrapuptime: 0",
		queue, iface, iface, iface, b2i(inCall), status, b2i(paused))
}

func queueEntryItem(queue, uid, num string, wait int) string {
	return fmt.Sprintf("Event: QueueEntry\nQueue: %s\nPosition: 1\nChannel: %s\nUniqueid: %s\nCallerIDNum: %s\nCallerIDName: <unknown>\nConnectedLineNum: <unknown>\nConnectedLineName: <unknown>\nWait: %d\nPriority: 0",
		queue, trunk(uid), uid, num, wait)
}

func channelItem(channel, uid, linked, app, data, bridge, dur string) string {
	return fmt.Sprintf("Event: CoreShowChannel\nChannel: %s\nChannelState: 6\nChannelStateDesc: Up\nCallerIDNum: 0600000000\nCallerIDName: <unknown>\nUniqueid: %s\nLinkedid: %s\nApplication: %s\nApplicationData: %s\nDuration: %s\nBridgeId: %s",
		channel, uid, linked, app, data, dur, bridge)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
