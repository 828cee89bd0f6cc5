package api

// The error codes of the wire contract: the "code" of every refusal, on
// reply/{device} and in the HTTP API's {"error": {...}}. Clients branch on
// them; they never change meaning. The queue engine's refusals carry the
// same codes (hub/queue builds its errors from these constants).
const (
	// The request itself.
	CodeBadRequest       = "bad_request"   // not JSON, wrong types, more than one value
	CodeUnknownOp        = "unknown_op"    // an MQTT op the hub does not know
	CodeUnknownField     = "unknown_field" // a field the operation does not take
	CodeTooLarge         = "too_large"     // over the size limit
	CodeInvalid          = "invalid_argument"
	CodeForbidden        = "forbidden"              // this device or account may not do this
	CodeUnavailable      = "unavailable"            // not stored: send it again with the same id
	CodeInternal         = "internal"               // a bug; logged on the hub
	CodeSuperseded       = "superseded"             // replaced by the ticket a kiosk printed offline
	CodeUnauthorized     = "unauthorized"           // no or wrong credentials (HTTP)
	CodeNotFound         = "not_found"              // no such endpoint (HTTP)
	CodeRateLimited      = "rate_limited"           // too many failed attempts: wait (HTTP)
	CodeMethodNotAllowed = "method_not_allowed"     // HTTP
	CodeUnsupportedMedia = "unsupported_media_type" // HTTP: send application/json
	// An enrollment code unknown, used or expired: one answer for all three.
	CodeUnknownEnrollment = "unknown_enrollment_code"

	// The queue's refusals.
	CodeUnknownService  = "unknown_service"
	CodeUnknownCounter  = "unknown_counter"
	CodeUnknownAgent    = "unknown_agent"
	CodeUnknownTicket   = "unknown_ticket"
	CodeChannelNotTaken = "channel_not_taken"
	CodeServiceClosed   = "service_closed"
	CodeServiceFull     = "service_full"
	CodeCounterClosed   = "counter_closed"
	CodeCounterBusy     = "counter_busy"
	CodeAgentBusy       = "agent_busy"
	CodeAgentPaused     = "agent_paused"
	CodeAgentNotPaused  = "agent_not_paused"
	CodeAgentOffline    = "agent_signed_out" // the agent named is not signed in
	CodeLacksSkill      = "agent_lacks_skill"
	CodeNoTicket        = "no_current_ticket"
	CodeNotWaiting      = "ticket_not_waiting"
	CodeTransition      = "invalid_transition"
	CodeQueueEmpty      = "queue_empty"
	CodeLease           = "invalid_lease"
	CodeNoAppointment   = "unknown_appointment"
	CodeCheckedIn       = "already_checked_in"
	CodeCheckinWindow   = "checkin_window"

	// The device registry's.
	CodeDeviceExists  = "device_exists"
	CodeUnknownDevice = "unknown_device"
	// CodeNoUpdate: no update bundle published for this architecture or version.
	CodeNoUpdate = "no_update"

	// The outbox's (cloud/).
	CodeUnknownDestination = "unknown_destination"

	// Signed webhooks (Standard Webhooks) the hub receives.
	CodeReplayed = "replayed"        // this webhook-id was taken already: not applied again
	CodeStale    = "stale_timestamp" // webhook-timestamp too far from the hub's clock
	// Accounts' (hub/auth).
	CodeAccountExists  = "account_exists"
	CodeUnknownAccount = "unknown_account"
	CodeUnknownToken   = "unknown_token"
	CodeWeakPassword   = "weak_password"
	CodeWrongPassword  = "wrong_password"

	// The citizen file's and the telephony's (hub/httpapi/citizens.go).
	CodeRestricted = "erasure_restricted" // a legal exception keeps the file: not erased
	CodeNotACall   = "not_a_call"         // the ticket is no call or callback of the telephony link
)
