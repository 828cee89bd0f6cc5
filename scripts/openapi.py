#!/usr/bin/env python3
"""Writes hub/httpapi/openapi.json. The document is the contract: edit this
generator, run it (make openapi), and commit both; a Go test checks every
route the server has is documented and every documented route exists."""
import json, os

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def content(schema): return {"application/json": {"schema": schema}}
def ok(desc, schema): return {"description": desc, "content": content(schema)}
ERR = {"description": "Refused; see error.code", "content": content(ref("Error"))}
dt = {"type": "string", "format": "date-time"}
def text(n): return {"type": "string", "maxLength": n, "description": "Valid Unicode, without control characters"}
def errs(*codes): return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}

counter_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Counter id"}
ticket_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Ticket id (UUIDv7)"}
idem = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 100},
        "description": "Makes the operation idempotent: the same key again returns the first reply (header Idempotent-Replayed: true) and changes nothing, across restarts."}

paths = {
  "/healthz": {"get": {"summary": "Health, the queue's size and the last event sequence", "security": [], "tags": ["ops"],
      "responses": {"200": ok("Healthy: status ok", {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}, "waiting": {"type": "integer"}, "last_event": {"type": "integer"}}}),
                    "503": ok("Degraded: the database refuses writes (a full disk); reads are served, operations refused until it takes them again",
                              {"type": "object", "properties": {"status": {"type": "string", "enum": ["degraded"]}, "reason": {"type": "string"}, "since": dt,
                                                                "waiting": {"type": "integer"}, "last_event": {"type": "integer"}}})}}},
  "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "tags": ["ops"],
      "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
  "/api/v1/": {"get": {"summary": "The API's index: its routes with the access each requires, and where its contract and documentation are", "security": [], "tags": ["ops"],
      "responses": {"200": ok("Index", {"type": "object", "properties": {"name": {"type": "string"}, "site": {"type": "string"}, "openapi": {"type": "string"},
          "docs": {"type": "string"}, "auth": {"type": "string"}, "routes": {"type": "array", "items": {"type": "object", "properties": {
          "method": {"type": "string"}, "path": {"type": "string"}, "access": {"type": "string"}, "about": {"type": "string"}}}}}})}}},
  "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "tags": ["ops"],
      "responses": {"200": ok("OpenAPI 3 document", {"type": "object"})}}},
  "/api/v1/services": {"get": {"summary": "The services, their names and whether they are open now", "security": [], "tags": ["queue"],
      "responses": {"200": ok("Services", {"type": "object", "properties": {"services": {"type": "array", "items": ref("Service")}}})}}},
  "/api/v1/queue": {"get": {"summary": "Queue summary per service: waiting, longest wait, estimated wait", "security": [], "tags": ["queue"],
      "responses": {"200": ok("Summary", ref("Queue"))}}},
  "/api/v1/board": {"get": {"summary": "The waiting-room board: last calls, newest first", "security": [], "tags": ["queue"],
      "responses": {"200": ok("Board", ref("Board"))}}},
  "/api/v1/tickets": {
    "post": {"summary": "Issue a ticket (walk-in or phone)", "tags": ["tickets"], "parameters": [idem],
      "requestBody": {"required": True, "content": content(ref("IssueRequest"))},
      "responses": {"201": ok("Issued, with the people ahead and the estimated wait", ref("Ticket")), **errs(400, 401, 409, 413, 415, 422, 503)}},
    "get": {"summary": "Tickets held in memory (today's and those still open)", "tags": ["tickets"],
      "parameters": [{"name": "state", "in": "query", "schema": {"type": "string", "enum": ["waiting", "called", "serving", "done", "noshow", "cancelled"]}},
                     {"name": "service", "in": "query", "schema": {"type": "string", "maxLength": 64}}],
      "responses": {"200": ok("Tickets, in issue order", {"type": "object", "properties": {"tickets": {"type": "array", "items": ref("Ticket")}}}), **errs(400, 401)}}},
  "/api/v1/tickets/{id}": {"get": {"summary": "One ticket, from the live queue or the log", "tags": ["tickets"], "parameters": [ticket_id],
      "responses": {"200": ok("Ticket", ref("Ticket")), **errs(401, 404)}}},
  "/api/v1/tickets/{id}/events": {"get": {"summary": "A ticket's history from the event log", "tags": ["tickets"], "parameters": [ticket_id],
      "responses": {"200": ok("Events in order", {"type": "object", "properties": {"events": {"type": "array", "items": ref("Event")}}}), **errs(401, 404)}}},
  "/api/v1/tickets/{id}/cancel": {"post": {"summary": "Cancel a waiting or called ticket (citizen left, call abandoned)", "tags": ["tickets"],
      "parameters": [ticket_id, idem],
      "requestBody": {"required": False, "content": content(ref("CancelArgs"))},
      "responses": {"200": ok("Cancelled", ref("Ticket")), **errs(400, 401, 404, 409, 413, 503)}}},
  "/api/v1/counters": {"get": {"summary": "Every counter, its agent and current ticket", "tags": ["counters"],
      "responses": {"200": ok("Counters", {"type": "object", "properties": {"counters": {"type": "array", "items": ref("Counter")}}}), **errs(401)}}},
  "/api/v1/counters/{id}": {"get": {"summary": "One counter", "tags": ["counters"], "parameters": [counter_id],
      "responses": {"200": ok("Counter", ref("Counter")), **errs(401, 404)}}},
  "/api/v1/counters/{id}/explain": {"get": {"summary": "Who call next would pick now, and why (nothing changes)", "tags": ["counters"], "parameters": [counter_id],
      "responses": {"200": ok("Decision", ref("Decision")), **errs(401, 404, 409)}}},
  "/api/v1/agents": {"get": {"summary": "Agents, their skills and states", "tags": ["counters"],
      "responses": {"200": ok("Agents", {"type": "object", "properties": {"agents": {"type": "array", "items": ref("Agent")}}}), **errs(401)}}},
  "/api/v1/events": {"get": {"summary": "The event log, paged by sequence", "tags": ["events"],
      "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Return events after this sequence"},
                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
      "responses": {"200": ok("Events and the sequence to ask after next", {"type": "object", "properties": {"events": {"type": "array", "items": ref("Event")}, "next": {"type": "integer"}}}), **errs(400, 401)}}},
}

page_args = [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Return events after this sequence"},
             {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}]
dest_name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Destination name (mqtt, or one of the site file's destinations)"}
paths["/api/v1/cloudevents"] = {"get": {"summary": "The event log in CloudEvents form, as integrations receive it (no personal data, no account events): to catch up by sequence", "tags": ["events"],
    "parameters": page_args,
    "responses": {"200": ok("CloudEvents, and the sequence to ask after next (the last read, shown or not)", {"type": "object", "properties": {"events": {"type": "array", "items": ref("CloudEvent")}, "next": {"type": "integer"}}}), **errs(400, 401, 403)}}}
paths["/api/v1/events/export"] = {"get": {"summary": "The events between two days or times, CSV or NDJSON (no personal data)", "tags": ["events"],
    "parameters": [{"name": "from", "in": "query", "required": True, "schema": {"type": "string"}, "description": "A day (2026-12-01, the site's midnight) or an RFC 3339 time"},
                   {"name": "to", "in": "query", "required": True, "schema": {"type": "string"}, "description": "A day (included) or an RFC 3339 time (excluded)"},
                   {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["ndjson", "csv"], "default": "ndjson"}}],
    "responses": {"200": {"description": "NDJSON: one CloudEvent a line; CSV: a header then one event a row", "content": {"application/x-ndjson": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}}, **errs(400, 401, 403)}}}
paths["/api/v1/destinations"] = {"get": {"summary": "The connectors outward (the MQTT bus, webhooks, bridge, SuiteCRM, Lutece) and their state", "tags": ["events"],
    "responses": {"200": ok("Destinations", {"type": "object", "properties": {"destinations": {"type": "array", "items": ref("Destination")}}}), **errs(401, 403)}}}
paths["/api/v1/destinations/{name}/dead-letters"] = {"get": {"summary": "A destination's dead letters: events it refused for good, or failed past its limit", "tags": ["events"],
    "parameters": [dest_name, page_args[1]],
    "responses": {"200": ok("Dead letters, oldest event first", {"type": "object", "properties": {"dead_letters": {"type": "array", "items": ref("DeadLetter")}}}), **errs(400, 401, 403, 404)}}}
paths["/api/v1/destinations/{name}/replay"] = {"post": {"summary": "Send a destination's dead letters again (all, or those of seqs); those delivered leave the list", "tags": ["events"],
    "parameters": [dest_name],
    "requestBody": {"required": False, "content": content({"type": "object", "properties": {"seqs": {"type": "array", "items": {"type": "integer"}}}})},
    "responses": {"200": ok("What the replay did", ref("Replayed")), **errs(400, 401, 403, 404)}}}
paths["/api/v1/destinations/{name}/resume"] = {"post": {"summary": "Start again a destination stopped by a 410 Gone", "tags": ["events"],
    "parameters": [dest_name],
    "responses": {"200": ok("The destination", ref("Destination")), **errs(401, 403, 404)}}}

device_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"}, "description": "Device id"}
paths["/api/v1/devices"] = {
  "post": {"summary": "Register a device; its secret (the MQTT password) is shown in this answer only", "tags": ["devices"],
    "requestBody": {"required": True, "content": content({"type": "object", "additionalProperties": False, "required": ["id", "role"], "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$", "example": "kiosk-hall"},
        "role": {"type": "string", "enum": ["kiosk", "display", "counter", "integration"]},
        "counter": {"type": "string", "maxLength": 64, "description": "The counter of a counter terminal"}}})},
    "responses": {"201": ok("Registered", ref("NewDevice")), **errs(400, 401, 409, 413)}},
  "get": {"summary": "Every device, with its last published state", "tags": ["devices"],
    "responses": {"200": ok("Devices", {"type": "object", "properties": {"devices": {"type": "array", "items": ref("Device")}}}), **errs(401)}}}
paths["/api/v1/devices/{id}"] = {"get": {"summary": "One device", "tags": ["devices"], "parameters": [device_id],
    "responses": {"200": ok("Device", ref("Device")), **errs(400, 401, 404)}}}
paths["/api/v1/devices/{id}/disable"] = {"post": {"summary": "Disable a device: its MQTT session is cut at once", "tags": ["devices"], "parameters": [device_id],
    "responses": {"200": ok("Device", ref("Device")), **errs(400, 401, 404)}}}
paths["/api/v1/devices/{id}/enable"] = {"post": {"summary": "Enable a disabled device", "tags": ["devices"], "parameters": [device_id],
    "responses": {"200": ok("Device", ref("Device")), **errs(400, 401, 404)}}}
paths["/api/v1/devices/{id}/secret"] = {"post": {"summary": "Give a device a new secret (shown once); the old one stops working at once", "tags": ["devices"], "parameters": [device_id],
    "responses": {"200": ok("New secret", ref("NewDevice")), **errs(400, 401, 404)}}}
paths["/api/v1/devices/{id}/enrollment"] = {"post": {"summary": "Give a device a one-time enrollment code (shown once; 80 bits, 24 h); a code it had before stops working", "tags": ["devices"], "parameters": [device_id],
    "responses": {"201": ok("The code", {"type": "object", "properties": {"device": {"type": "string"},
        "code": {"type": "string", "example": "7K3M-Q9XD-2B8F-WN4T", "description": "16 letters of Crockford's base32 in groups of four; shown once"},
        "expires_at": dt}}), **errs(400, 401, 404)}}}
paths["/api/v1/enroll"] = {"post": {"summary": "A device exchanges its one-time code for its settings and a new secret (its secret before stops working). No account: the code is the credential. An unknown, used or expired code get the same 404 unknown_enrollment_code; wrong codes count against the address (429)", "security": [], "tags": ["devices"],
    "requestBody": {"required": True, "content": content({"type": "object", "additionalProperties": False, "required": ["code"], "properties": {
        "code": {"type": "string", "maxLength": 64, "description": "Case, spaces and dashes ignored; O read as 0, I and L as 1"}}})},
    "responses": {"200": ok("The device's settings", ref("Enrollment")), **errs(400, 404, 413, 415, 429)}}}

arch_param = {"name": "arch", "in": "path", "required": True, "schema": {"type": "string", "enum": ["amd64", "arm64", "armv7"]}, "description": "The device's architecture"}
paths["/api/v1/updates/{arch}"] = {"get": {"summary": "The newest signed update bundle published for an architecture: its manifest and minisign signature (whose trusted comment is the manifest). A device verifies the binary against the key it got at enrollment before it runs it, and refuses an older version (docs/install.md)",
    "tags": ["devices"], "security": [{"device": []}, {"bearer": []}], "parameters": [arch_param],
    "responses": {"200": ok("The newest bundle", ref("UpdateManifest")), **errs(401, 404, 429)}}}
paths["/api/v1/updates/{arch}/{version}"] = {"get": {"summary": "An update bundle's binary (Range requests allowed)", "tags": ["devices"], "security": [{"device": []}, {"bearer": []}],
    "parameters": [arch_param, {"name": "version", "in": "path", "required": True, "schema": {"type": "string", "example": "v1.4.0"}}],
    "responses": {"200": {"description": "The binary", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}, **errs(401, 404, 429)}}}

code_param = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Appointment code"}
paths["/api/v1/appointments"] = {
  "post": {"summary": "Record an appointment booked on the town's booking platform", "tags": ["appointments"], "parameters": [idem],
    "requestBody": {"required": True, "content": content(ref("AppointmentArgs"))},
    "responses": {"201": ok("Recorded", ref("Appointment")), **errs(400, 401, 413, 422)}},
  "get": {"summary": "The appointments of a day", "tags": ["appointments"],
    "parameters": [{"name": "day", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Today if absent"}],
    "responses": {"200": ok("Appointments by time", {"type": "object", "properties": {"day": {"type": "string"}, "appointments": {"type": "array", "items": ref("Appointment")}}}), **errs(400, 401)}}}
paths["/api/v1/appointments/{code}"] = {"get": {"summary": "One appointment", "tags": ["appointments"], "parameters": [code_param],
    "responses": {"200": ok("Appointment", ref("Appointment")), **errs(401, 404)}}}
paths["/api/v1/appointments/{code}/cancel"] = {"post": {"summary": "Cancel an appointment not checked in", "tags": ["appointments"], "parameters": [code_param, idem],
    "responses": {"200": ok("Cancelled", {"type": "object"}), **errs(401, 404, 409)}}}
paths["/api/v1/appointments/{code}/checkin"] = {"post": {"summary": "Check a citizen in at the desk: issues the appointment ticket", "tags": ["appointments"], "parameters": [code_param, idem],
    "requestBody": {"required": False, "content": content(ref("CheckinArgs"))},
    "responses": {"201": ok("The appointment ticket", ref("Ticket")), **errs(400, 401, 404, 409)}}}

counter_ops = [
  ("open", "Log an agent on at the counter", {"agent": {"type": "string", "maxLength": 64}}, ["agent"]),
  ("close", "Log the agent off (the counter must hold no ticket)", {}, []),
  ("next", "Call next: finishes the ticket held, calls the one the policy picks", {}, []),
  ("recall", "Announce the called ticket again; past the policy's recalls, a no-show", {}, []),
  ("start", "The called citizen is at the counter", {}, []),
  ("finish", "The ticket is served", {}, []),
  ("noshow", "The called citizen did not come", {}, []),
  ("transfer", "Send the ticket to another service, or to a named agent (who alone calls it while signed in, for the policy's transfer_hold), with a note; it keeps its number and issue time",
   {"service": {"type": "string", "maxLength": 64, "description": "The target service; the ticket's own if absent and an agent is named"},
    "agent": {"type": "string", "maxLength": 64, "description": "A signed-in agent with a skill for the service"},
    "note": {**text(500), "description": "Shown as text (never markup) to whoever calls the ticket next; valid Unicode, without control characters"}}, []),
  ("pause", "Pause the agent, with a reason (one of the site's pause_reasons, which consoles offer, or a text of its own)", {"reason": {**text(200), "minLength": 1}}, ["reason"]),
  ("resume", "End the agent's pause", {}, []),
]
for op, summary, props, required in counter_ops:
    body = {"type": "object", "additionalProperties": False, "properties": props,
            "description": "The arguments of the MQTT op of the same name (hub/api); an operation without any takes none"}
    if required: body["required"] = required
    paths[f"/api/v1/counters/{{id}}/{op}"] = {"post": {"summary": summary, "tags": ["counters"], "parameters": [counter_id, idem],
        "requestBody": {"required": bool(required), "content": content(body)},
        "responses": {"200": ok("The counter after the operation", ref("Counter")), **errs(400, 401, 404, 409, 413, 422, 503)}}}

account_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"}, "description": "Account login"}
role = {"type": "string", "enum": ["agent", "supervisor", "admin"]}
paths["/api/v1/session"] = {"get": {"summary": "Who is calling: account, role, site agent, and (for a browser session) the CSRF token its pages send in X-CSRF-Token", "tags": ["accounts"],
    "responses": {"200": ok("The caller", ref("Session")), **errs(401)}}}
paths["/api/v1/accounts"] = {
  "get": {"summary": "Every account (never a password)", "tags": ["accounts"],
    "responses": {"200": ok("Accounts", {"type": "object", "properties": {"accounts": {"type": "array", "items": ref("Account")}}}), **errs(401, 403)}},
  "post": {"summary": "Create an account; without a password, a temporary one is drawn and shown in this answer only, to be changed at the first sign-in", "tags": ["accounts"],
    "requestBody": {"required": True, "content": content({"type": "object", "additionalProperties": False, "required": ["id", "role"], "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"}, "name": text(200), "role": role,
        "agent": {"type": "string", "maxLength": 64, "description": "The site agent this account is"},
        "password": {"type": "string", "minLength": 12, "maxLength": 256, "description": "At least 12 characters and 50 bits as the hub estimates them"}}})},
    "responses": {"201": ok("Created", {"type": "object", "properties": {"account": ref("Account"), "temporary_password": {"type": "string"}}}), **errs(400, 401, 403, 409, 422)}}}
paths["/api/v1/accounts/{id}"] = {"get": {"summary": "One account", "tags": ["accounts"], "parameters": [account_id],
    "responses": {"200": ok("Account", ref("Account")), **errs(401, 403, 404)}}}
paths["/api/v1/accounts/{id}/password"] = {"post": {"summary": "Reset a password: a temporary one (drawn, or given), to be changed at the next sign-in; the account's sessions end", "tags": ["accounts"],
    "parameters": [account_id], "requestBody": {"required": False, "content": content({"type": "object", "additionalProperties": False, "properties": {"password": {"type": "string"}}})},
    "responses": {"200": ok("The temporary password, shown once", {"type": "object", "properties": {"account": {"type": "string"}, "temporary_password": {"type": "string"}}}), **errs(400, 401, 403, 404, 422)}}}
paths["/api/v1/accounts/{id}/role"] = {"post": {"summary": "Change an account's role", "tags": ["accounts"], "parameters": [account_id],
    "requestBody": {"required": True, "content": content({"type": "object", "additionalProperties": False, "required": ["role"], "properties": {"role": role}})},
    "responses": {"200": ok("Account", ref("Account")), **errs(400, 401, 403, 404)}}}
paths["/api/v1/accounts/{id}/disable"] = {"post": {"summary": "Disable an account: its sessions end, its tokens stop working", "tags": ["accounts"], "parameters": [account_id],
    "responses": {"200": ok("Account", ref("Account")), **errs(401, 403, 404)}}}
paths["/api/v1/accounts/{id}/enable"] = {"post": {"summary": "Enable a disabled account", "tags": ["accounts"], "parameters": [account_id],
    "responses": {"200": ok("Account", ref("Account")), **errs(401, 403, 404)}}}
paths["/api/v1/accounts/{id}/signout"] = {"post": {"summary": "Sign an account out of every browser", "tags": ["accounts"], "parameters": [account_id],
    "responses": {"200": ok("How many sessions ended", {"type": "object", "properties": {"account": {"type": "string"}, "sessions_ended": {"type": "integer"}}}), **errs(401, 403, 404)}}}
paths["/api/v1/tokens"] = {
  "get": {"summary": "The caller's personal API tokens (never the secrets)", "tags": ["accounts"],
    "responses": {"200": ok("Tokens", {"type": "object", "properties": {"tokens": {"type": "array", "items": ref("Token")}}}), **errs(401)}},
  "post": {"summary": "Create a personal API token for the caller, shown in this answer only", "tags": ["accounts"],
    "requestBody": {"required": True, "content": content({"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
        "name": text(100), "role": {"type": "string", "enum": ["agent", "supervisor", "admin", "integration"], "description": "At most the caller's; the caller's if absent"}}})},
    "responses": {"201": ok("The token, with its secret", ref("Token")), **errs(400, 401, 403, 404)}}}
paths["/api/v1/tokens/{id}"] = {"delete": {"summary": "Revoke one of the caller's tokens: it stops working at once", "tags": ["accounts"],
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {"200": ok("Revoked", {"type": "object"}), **errs(401, 404)}}}

# The statistics (hub/stats, docs/statistics.md): a day or a range of the
# site's local days, for a service, an agent, a channel or all.
day = {"type": "string", "format": "date", "example": "2026-11-05"}
stats_params = [
  {"name": "from", "in": "query", "schema": day, "description": "First day (the site's local day); today if neither from nor to"},
  {"name": "to", "in": "query", "schema": day, "description": "Last day, inclusive; from if absent; at most 400 days"},
  {"name": "service", "in": "query", "schema": {"type": "string", "maxLength": 64}},
  {"name": "agent", "in": "query", "schema": {"type": "string", "maxLength": 64}},
  {"name": "channel", "in": "query", "schema": {"type": "string", "enum": ["visit", "phone"]}},
  {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["fr", "en"], "default": "fr"}, "description": "The charts' words; the CSV's numbers and separators"}]
paths["/api/v1/stats"] = {"get": {"summary": "Statistics: tickets, waits and service times (mean, median, 90th percentile, distribution), share within target, no-shows, cancellations, transfers, abandoned calls; per hour, day, service, agent and channel; with the charts' tables", "tags": ["statistics"],
    "parameters": stats_params,
    "responses": {"200": ok("The report (hub/stats.Report) and its charts' tables", {"type": "object", "additionalProperties": True}), **errs(400, 401)}}}
paths["/api/v1/stats.csv"] = {"get": {"summary": "The statistics as CSV for LibreOffice Calc and Excel: UTF-8 with BOM; in French, ';' and a decimal comma", "tags": ["statistics"],
    "parameters": stats_params + [{"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["summary", "detail"], "default": "summary"},
        "description": "summary: a line per day and service; detail: a line per ticket"}],
    "responses": {"200": {"description": "CSV, as an attachment", "content": {"text/csv": {"schema": {"type": "string"}}}}, **errs(400, 401)}}}

names = {"type": "object", "additionalProperties": {"type": "string"}, "example": {"fr": "État civil", "en": "Civil status"}}

# The site's administration (role admin) and the supervisor's actions (role supervisor).
svc_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Z]$"}, "description": "Service id: its letter"}
agent_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}, "description": "Agent id"}
site_errs = errs(400, 401, 404, 409, 413, 415, 422, 503)
def change(summary, body, result, params, tag="site"):
    op = {"summary": summary, "tags": [tag], "parameters": params + [idem],
          "responses": {"200": ok("Done (nothing changes when it already was so); an event with who made it is logged", result), **site_errs}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": content(body)}
    return op
paths["/api/v1/site"] = {"get": {"summary": "The site as the hub runs it: the site file, then every change made since (events)", "tags": ["site"],
    "responses": {"200": ok("The site", ref("Site")), **errs(401)}}}
paths["/api/v1/site/export"] = {"get": {"summary": "The site as a configuration file (YAML) that guichet config check accepts and that, loaded, gives the same site", "tags": ["site"],
    "responses": {"200": {"description": "YAML", "content": {"application/yaml": {"schema": {"type": "string"}}}}, **errs(401)}}}
paths["/api/v1/site/settings"] = {"put": change("Change the site's name, info message, public URL and languages", ref("Settings"), ref("Settings"), [])}
paths["/api/v1/site/pause-reasons"] = {"put": change("Replace the list of pause reasons the consoles offer",
    {"type": "object", "additionalProperties": False, "properties": {"pause_reasons": {"type": "array", "maxItems": 30, "items": {**text(100), "minLength": 1}}}},
    {"type": "object", "properties": {"pause_reasons": {"type": "array", "items": {"type": "string"}}}}, [])}
paths["/api/v1/site/services/{id}"] = {
    "put": change("Add or change a service (held to the site file's rules); whether it is closed to new tickets stays as it is", ref("SiteService"), ref("SiteService"), [svc_id]),
    "delete": change("Remove a service with nobody in its queue; its past tickets stay readable", None, {"type": "object"}, [svc_id])}
paths["/api/v1/site/counters/{id}"] = {
    "put": change("Add or change a counter", ref("SiteCounter"), ref("SiteCounter"), [counter_id]),
    "delete": change("Remove a closed counter", None, {"type": "object"}, [counter_id])}
paths["/api/v1/site/agents/{id}"] = {
    "put": change("Add or change an agent and their skill levels (1 to 5)", ref("SiteAgent"), ref("SiteAgent"), [agent_id]),
    "delete": change("Remove a signed-out agent", None, {"type": "object"}, [agent_id])}
paths["/api/v1/services/{id}/close"] = {"post": change("Close a service to new tickets, whatever its hours, with a message the kiosks show on its button; its queue is called as before",
    {"type": "object", "additionalProperties": False, "properties": {"message": {**names, "description": "By language, at most 500 bytes each; shown as text"}}}, ref("SiteService"), [svc_id], "supervision")}
paths["/api/v1/services/{id}/reopen"] = {"post": change("Let a closed service take new tickets again", None, ref("SiteService"), [svc_id], "supervision")}
paths["/api/v1/board/message"] = {"put": change("Put a message on the waiting-room screens (carried in the retained config); an empty one takes it down",
    {"type": "object", "additionalProperties": False, "properties": {"message": {**names, "description": "By language, at most 500 bytes each; shown as text"}}},
    {"type": "object", "properties": {"message": ref("Names")}}, [], "supervision")}
paths["/api/v1/tickets/{id}/transfer"] = {"post": change("Transfer a waiting, called or being-served ticket to a service or a named agent, with a note",
    {"type": "object", "additionalProperties": False, "properties": {"ticket": {"type": "string", "description": "The path's, if given"},
        "service": {"type": "string", "maxLength": 64}, "agent": {"type": "string", "maxLength": 64}, "note": text(500)}}, ref("Ticket"), [ticket_id], "supervision")}
paths["/api/v1/agents/{id}/pause"] = {"post": change("Pause a signed-in agent (refused while their counter holds a ticket)",
    {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {"reason": {**text(200), "minLength": 1}}}, ref("AgentState"), [agent_id], "supervision")}
paths["/api/v1/agents/{id}/resume"] = {"post": change("End an agent's pause", None, ref("AgentState"), [agent_id], "supervision")}
paths["/api/v1/agents/{id}/signout"] = {"post": change("Sign an agent out: their counter closes; a ticket they had called goes back to waiting at its place, one they were serving is finished as served, tickets held for them go back to their service",
    None, ref("AgentState"), [agent_id], "supervision")}
# Who may call what: the route table's access of every operation
# (hub/httpapi/routes.go); a Go test checks both say the same.
access = {
  "public": ["GET /healthz", "GET /metrics", "GET /api/v1/", "GET /api/v1/openapi.json", "GET /api/v1/services", "GET /api/v1/queue", "GET /api/v1/board", "POST /api/v1/enroll"],
  "device": ["GET /api/v1/updates/{arch}", "GET /api/v1/updates/{arch}/{version}"],
  "integration": ["GET /api/v1/events", "GET /api/v1/cloudevents", "GET /api/v1/events/export"],
  "supervisor": ["POST /api/v1/tickets/{id}/cancel", "POST /api/v1/accounts/{id}/signout", "POST /api/v1/services/{id}/close",
                 "POST /api/v1/services/{id}/reopen", "PUT /api/v1/board/message", "POST /api/v1/tickets/{id}/transfer",
                 "POST /api/v1/agents/{id}/pause", "POST /api/v1/agents/{id}/resume", "POST /api/v1/agents/{id}/signout",
                 "GET /api/v1/destinations", "GET /api/v1/destinations/{name}/dead-letters"],
  "admin": [f"{m.upper()} {p}" for p, ops in paths.items() for m in ops
            if p.startswith("/api/v1/devices") or p.startswith("/api/v1/site") or (p.startswith("/api/v1/accounts") and not p.endswith("/signout"))]
           + ["POST /api/v1/destinations/{name}/replay", "POST /api/v1/destinations/{name}/resume"],
}
access["supervisor"] += ["GET /api/v1/stats", "GET /api/v1/stats.csv"]
for p, ops in paths.items():
  for m, op in ops.items():
    key = f"{m.upper()} {p}"
    op["x-access"] = next((a for a, keys in access.items() if key in keys), "agent")
    if op["x-access"] == "public":
      op["security"] = []
    elif op["x-access"] != "agent" and "401" in op["responses"]:
      op["responses"]["403"] = {"$ref": "#/components/responses/E403"}

schemas = {
  "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
      "code": {"type": "string", "description": "Stable code, the same as in MQTT replies (hub/api/codes.go): bad_request, unknown_field, invalid_argument (also for text that is not valid Unicode: invalid UTF-8, a lone surrogate escape), too_large, unsupported_media_type, unauthorized, forbidden, rate_limited, not_found, method_not_allowed, unavailable, internal, superseded, unknown_device, device_exists, unknown_enrollment_code, no_update, and the queue's: " +
               "invalid_argument, unknown_service, unknown_counter, unknown_agent, agent_signed_out, unknown_ticket, unknown_appointment, already_checked_in, checkin_window, channel_not_taken, service_closed, service_full, counter_closed, counter_busy, agent_busy, agent_paused, agent_not_paused, agent_lacks_skill, no_current_ticket, ticket_not_waiting, invalid_transition, queue_empty, invalid_lease"},
      "message": {"type": "string"}}}}},
  "Names": names,
  "Service": {"type": "object", "properties": {"id": {"type": "string", "example": "E"}, "name": ref("Names"), "sla_s": {"type": "integer"},
      "channels": {"type": "array", "items": {"type": "string", "enum": ["visit", "phone"]}}, "open": {"type": "boolean", "description": "Takes visit tickets now"},
      "full": {"type": "boolean", "description": "Open, but its wait runs past closing time"}, "service_time_s": {"type": "integer"},
      "closed_message": {**names, "description": "Set when closed to new tickets by a supervisor: what the kiosks say"}}},
  "IssueRequest": {"type": "object", "additionalProperties": False, "required": ["service"],
    "description": "The arguments of the MQTT op issue_ticket (api.IssueArgs) but for those of a ticket printed offline (offline_number, issued_at, token, replaces: MQTT only, refused here as unknown fields)",
    "properties": {
      "service": {"type": "string", "example": "E", "maxLength": 64}, "channel": {"type": "string", "enum": ["visit", "phone"], "default": "visit"},
      "priority": {"type": "string", "enum": ["none", "priority", "appointment"], "default": "none"},
      "appointment_at": {**dt, "description": "Slot time, within a day of now; required for an appointment, refused otherwise"},
      "citizen": {**text(200), "description": "HTTP only (staff): the citizen's id in the town's records"},
      "lang": {"type": "string", "maxLength": 16, "pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", "example": "fr"},
      "force": {"type": "boolean", "description": "HTTP only (staff): issue even outside opening hours or when the service is full"}}},
  "CancelArgs": {"type": "object", "additionalProperties": False, "description": "The arguments of the MQTT op cancel",
    "properties": {"ticket": {"type": "string", "description": "The path's ticket id, if given"}, "reason": text(200)}},
  "CheckinArgs": {"type": "object", "additionalProperties": False, "description": "The arguments of the MQTT op checkin",
    "properties": {"code": {"type": "string", "description": "The path's code, if given"}, "lang": {"type": "string", "maxLength": 16, "example": "fr"}}},
  "AppointmentArgs": {"type": "object", "additionalProperties": False, "required": ["code", "service", "at"], "properties": {
      "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{4,32}$", "description": "What the citizen types or scans at the kiosk"},
      "service": {"type": "string", "maxLength": 64}, "at": {**dt, "description": "From a day ago to 366 days ahead"}, "citizen": text(200)}},
  "Ticket": {"type": "object", "properties": {
      "id": {"type": "string"}, "number": {"type": "string", "example": "E042"}, "service": {"type": "string"}, "service_name": ref("Names"),
      "channel": {"type": "string", "enum": ["visit", "phone"]}, "priority": {"type": "string", "enum": ["none", "priority", "appointment"]},
      "state": {"type": "string", "enum": ["waiting", "called", "serving", "done", "noshow", "cancelled"]},
      "issued_at": dt, "appointment_at": dt, "counter": {"type": "string"}, "counter_name": {"type": "string"}, "called_at": dt, "ended_at": dt,
      "recalls": {"type": "integer"}, "transfers": {"type": "integer"}, "device": {"type": "string"}, "citizen": {"type": "string"},
      "ahead": {"type": "integer", "description": "Waiting tickets before it (waiting tickets only)"},
      "estimated_wait_s": {"type": "integer", "description": "Absent when nobody serves the service now"},
      "token": {"type": "string", "description": "Token of the mobile ticket page /t/{token}"},
      "note": {"type": "string", "description": "The last transfer's note: text, never markup"},
      "for_agent": {"type": "string", "description": "Transferred to this agent, who alone calls it while signed in, for a while"}}},
  "Counter": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
      "channels": {"type": "array", "items": {"type": "string"}}, "open": {"type": "boolean"}, "agent": {"type": "string"}, "agent_name": {"type": "string"},
      "agent_state": {"type": "string", "enum": ["offline", "available", "serving", "paused", "wrapup"]}, "pause_reason": {"type": "string"}, "ticket": ref("Ticket")}},
  "Agent": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "state": {"type": "string"},
      "counter": {"type": "string"}, "pause_reason": {"type": "string"}, "since": dt, "skills": {"type": "object", "additionalProperties": {"type": "integer"}}}},
  "Board": {"type": "object", "properties": {"calls": {"type": "array", "items": {"type": "object", "properties": {
      "ticket": {"type": "string", "example": "A042"}, "service": {"type": "string"}, "counter": {"type": "string", "example": "3"},
      "counter_name": {"type": "string", "example": "Guichet 3"}, "at": dt, "recall": {"type": "boolean"}}}}}},
  "Queue": {"type": "object", "properties": {"at": dt, "services": {"type": "array", "items": {"type": "object", "properties": {
      "service": {"type": "string"}, "name": ref("Names"), "waiting": {"type": "integer"}, "waiting_phone": {"type": "integer"},
      "longest_wait_s": {"type": "integer"}, "estimated_wait_s": {"type": ["integer", "null"]}, "agents": {"type": "number"}, "open": {"type": "boolean"}}}}}},
  "Candidate": {"type": "object", "properties": {"ticket": {"type": "string"}, "ticket_id": {"type": "string"}, "service": {"type": "string"},
      "channel": {"type": "string"}, "priority": {"type": "string"}, "tier": {"type": "string", "enum": ["appointment_due", "priority", "overdue", "weighted_wait"]},
      "rank": {"type": "integer"}, "score": {"type": "number"}, "wait": {"type": "integer", "description": "nanoseconds"}, "skill_level": {"type": "integer"}, "why": {"type": "string"}}},
  "Decision": {"type": "object", "properties": {"counter": {"type": "string"}, "agent": {"type": "string"}, "next": ref("Candidate"),
      "candidates": {"type": "array", "items": ref("Candidate")}, "policy": {"type": "array", "items": {"type": "string"}}}},
  "DeviceState": {"type": "object", "properties": {"online": {"type": "boolean"}, "role": {"type": "string"}, "version": {"type": "string"},
      "printer": {"type": "object", "properties": {"ok": {"type": "boolean"}, "paper_low": {"type": "boolean"}, "paper_out": {"type": "boolean"}, "cover_open": {"type": "boolean"}, "offline": {"type": "boolean"}}},
      "outbox": {"type": "integer", "description": "Commands not yet answered"}}},
  "Device": {"type": "object", "properties": {"id": {"type": "string"}, "role": {"type": "string"}, "counter": {"type": "string"},
      "disabled": {"type": "boolean"}, "created_at": dt, "online": {"type": "boolean"}, "state": ref("DeviceState")}},
  "NewDevice": {"type": "object", "properties": {"id": {"type": "string"}, "role": {"type": "string"}, "counter": {"type": "string"},
      "secret": {"type": "string", "description": "The MQTT password; shown once"},
      "mqtt": {"type": "object", "properties": {"username": {"type": "string"}, "topics": {"type": "string", "example": "guichet/v1/villeneuve/"}}}}},
  "Enrollment": {"type": "object", "properties": {"id": {"type": "string"}, "role": {"type": "string"}, "counter": {"type": "string"},
      "site": {"type": "string"}, "secret": {"type": "string", "description": "The device's new MQTT password; shown once"},
      "mqtt": {"type": "object", "properties": {"username": {"type": "string"}, "topics": {"type": "string"}}},
      "mqtt_urls": {"type": "array", "items": {"type": "string", "example": "ssl://hub.mairie.local:8883"}, "description": "The hub's brokers, ssl:// first"},
      "ca_pem": {"type": "string", "description": "With an ssl:// broker: the certificate (PEM) a device trusts it with"},
      "update_key": {"type": "string", "description": "The public key (minisign's format) update bundles are signed with; absent when the hub serves none"}}},
  "UpdateManifest": {"type": "object", "properties": {"version": {"type": "string", "example": "v1.4.0"}, "arch": {"type": "string", "enum": ["amd64", "arm64", "armv7"]},
      "sha256": {"type": "string"}, "size": {"type": "integer"}, "min_version": {"type": "string"},
      "signature": {"type": "string", "description": "The .minisig file: its trusted comment is the manifest, signed with the binary"},
      "download": {"type": "string", "example": "/api/v1/updates/arm64/v1.4.0"}}},
  "Appointment": {"type": "object", "properties": {"code": {"type": "string"}, "service": {"type": "string"}, "at": dt,
      "citizen": {"type": "string"}, "ticket": {"type": "string", "description": "The ticket issued at check-in"}}},
  "Settings": {"type": "object", "additionalProperties": False, "required": ["name", "languages"], "properties": {
      "name": {**text(100), "minLength": 1}, "info": {**names, "description": "Scrolls on the waiting-room screens; at most 500 bytes a language"},
      "public_url": {"type": "string", "pattern": "^https?://", "description": "The address citizens' phones reach (QR codes)"},
      "languages": {"type": "array", "items": {"type": "string", "example": "fr"}, "minItems": 1}}},
  "Hours": {"type": "object", "additionalProperties": False, "properties": {
      "week": {"type": "object", "additionalProperties": False, "properties": {d: {"type": "string", "example": "08:30-12:00 13:30-17:30"} for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
      "closed": {"type": "array", "items": {"type": "string", "format": "date"}}}, "description": "None: always open"},
  "SiteService": {"type": "object", "additionalProperties": False, "required": ["names", "channels"], "properties": {
      "id": {"type": "string", "pattern": "^[A-Z]$", "description": "The path's, if given"}, "names": {**names, "description": "A French name is required"},
      "sla": {"type": "string", "example": "15m0s", "description": "Target wait, 0 to 24h"}, "service_time": {"type": "string", "example": "8m0s"},
      "weight": {"type": "number", "minimum": 0, "maximum": 100}, "channels": {"type": "array", "items": {"type": "string", "enum": ["visit", "phone"]}, "minItems": 1},
      "hours": ref("Hours"), "closed": {"type": "object", "properties": {"message": ref("Names")}, "description": "Set while closed to new tickets (read only here: close and reopen)"}}},
  "SiteCounter": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
      "id": {"type": "string", "description": "The path's, if given"}, "name": {**text(100), "minLength": 1},
      "channels": {"type": "array", "items": {"type": "string", "enum": ["visit", "phone"]}, "description": "visit if none"},
      "services": {"type": "array", "items": {"type": "string"}, "description": "every service its agent may serve if none"}}},
  "SiteAgent": {"type": "object", "additionalProperties": False, "required": ["skills"], "properties": {
      "id": {"type": "string", "description": "The path's, if given"}, "name": text(100),
      "skills": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5}, "minProperties": 1}}},
  "Site": {"type": "object", "description": "The site as the hub runs it (the same JSON the log keeps in site.loaded)", "properties": {
      "id": {"type": "string"}, "name": {"type": "string"}, "timezone": {"type": "string"}, "languages": {"type": "array", "items": {"type": "string"}},
      "policy": {"type": "object"}, "services": {"type": "array", "items": ref("SiteService")}, "counters": {"type": "array", "items": ref("SiteCounter")},
      "agents": {"type": "array", "items": ref("SiteAgent")}, "public_url": {"type": "string"}, "info": ref("Names"), "message": ref("Names"),
      "pause_reasons": {"type": "array", "items": {"type": "string"}}}},
  "AgentState": {"type": "object", "properties": {"id": {"type": "string"}, "state": {"type": "string", "enum": ["offline", "available", "serving", "paused", "wrapup"]},
      "counter": {"type": "string"}, "pause_reason": {"type": "string"}, "since": dt}},
  "Account": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "role": role, "agent": {"type": "string"},
      "has_password": {"type": "boolean"}, "must_change_password": {"type": "boolean"}, "disabled": {"type": "boolean"}, "created_at": dt, "updated_at": dt}},
  "Token": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}, "created_at": dt, "last_used": dt,
      "token": {"type": "string", "description": "The secret, in the answer that creates it only: send it as Authorization: Bearer"}}},
  "Session": {"type": "object", "properties": {"account": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}, "agent": {"type": "string"},
      "via": {"type": "string", "enum": ["session", "sso", "token", "admin-token"]}, "provider": {"type": "string"}, "csrf_token": {"type": "string"},
      "must_change_password": {"type": "boolean"}}},
  "CloudEvent": {"type": "object", "description": "CloudEvents 1.0, structured JSON; id {site}-{sequence} is the same at every delivery",
      "properties": {"specversion": {"type": "string", "enum": ["1.0"]}, "id": {"type": "string"}, "source": {"type": "string"}, "type": {"type": "string"},
                     "subject": {"type": "string"}, "time": dt, "sequence": {"type": "string"}, "datacontenttype": {"type": "string"}, "data": ref("EventData")}},
  "EventData": {"type": "object", "description": "The event with what a consumer needs on its own; times with the site's offset; citizen only to CRM destinations; never a QR token or an appointment code",
      "properties": {"seq": {"type": "integer"}, "type": {"type": "string"}, "at": dt, "day": {"type": "string"}, "actor": {"type": "string"},
                     "ticket": {"type": "string"}, "number": {"type": "string", "example": "A042"}, "service": {"type": "string"}, "service_name": {"type": "string"},
                     "from": {"type": "string"}, "from_name": {"type": "string"}, "channel": {"type": "string", "enum": ["visit", "phone"]}, "priority": {"type": "string"},
                     "issued_at": dt, "appointment_at": dt, "counter": {"type": "string"}, "counter_name": {"type": "string"}, "agent": {"type": "string"},
                     "agent_name": {"type": "string"}, "device": {"type": "string"}, "lang": {"type": "string"}, "reason": {"type": "string"}, "recall": {"type": "integer"},
                     "lease_to": {"type": "integer"}, "citizen": {"type": "string"}}},
  "Destination": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string", "enum": ["mqtt", "webhook", "bridge", "suitecrm", "lutece"]},
      "cursor": {"type": "integer"}, "behind": {"type": "integer"}, "state": {"type": "string", "enum": ["ok", "retrying", "gone"]}, "failing_since": dt,
      "last_error": {"type": "string"}, "dead_letters": {"type": "integer"}}},
  "DeadLetter": {"type": "object", "properties": {"destination": {"type": "string"}, "seq": {"type": "integer"}, "id": {"type": "string"}, "type": {"type": "string"},
      "at": dt, "attempts": {"type": "integer"}, "reason": {"type": "string"}}},
  "Replayed": {"type": "object", "properties": {"delivered": {"type": "integer"}, "failed": {"type": "array", "items": ref("DeadLetter")}}},
  "Event": {"type": "object", "description": "One fact of the log; fields beyond seq, at, type depend on the type. Account events (account.*, with an agent's address) are listed to admins only; to an integration token, without the free-text citizen, the QR token or an appointment code",
      "properties": {"seq": {"type": "integer"}, "at": dt, "type": {"type": "string", "example": "ticket.called"}, "ticket": {"type": "string"}, "actor": {"type": "string"}},
      "additionalProperties": True},
}
responses = {f"E{c}": {"description": d, "content": content(ref("Error"))} for c, d in [
  (400, "Malformed request: bad_request, unknown_field, invalid_argument"), (401, "Nobody signed in, or a wrong token: unauthorized"),
  (403, "The caller's role does not allow it, an agent acting at another agent's counter, or a browser request without its CSRF token: forbidden"),
  (429, "Too many failed authentications from this address: rate_limited; wait Retry-After seconds"),
  (404, "Unknown counter or ticket"), (409, "The queue refuses the operation in its current state"),
  (413, "Body over 64 KiB: too_large"), (415, "Not JSON: unsupported_media_type"),
  (422, "Unknown service or agent, channel not taken"), (503, "Could not be stored: retry with the same Idempotency-Key")]}

# Every route that needs the token may answer 429 to an address that failed too often.
for methods in paths.values():
  for op in methods.values():
    if op.get("security") != [] and "401" in op["responses"]:
      op["responses"]["429"] = {"$ref": "#/components/responses/E429"}

# The citizen file's and the telephony's routes and schemas, kept as JSON
# beside this script (they were first written as JSON).
with open(os.path.join(os.path.dirname(__file__), "openapi-citizens.json")) as f:
  extra = json.load(f)
for p, ops in extra["paths"].items():
  if p in paths:
    raise SystemExit(f"openapi-citizens.json: {p} is defined here too")
  paths[p] = ops
for k, v in extra["schemas"].items():
  if k in schemas:
    raise SystemExit(f"openapi-citizens.json: schema {k} is defined here too")
  schemas[k] = v

doc = {
  "openapi": "3.1.0",
  "info": {"title": "Guichet hub API", "version": "1.0.0",
           "description": "One queue for walk-ins and phone calls. Every operation is durable before it is answered. French-first; names are given by language.",
           "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"}},
  "servers": [{"url": "/"}],
  "security": [{"bearer": []}, {"session": []}],
  "tags": [{"name": n} for n in ["queue", "tickets", "counters", "appointments", "devices", "site", "supervision", "accounts", "events", "ops"]] + extra["tags"],
  "paths": paths,
  "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "The admin token (GUICHET_ADMIN_TOKEN, or the admin-token file in the data directory), or a personal token (POST /api/v1/tokens)"},
                                     "device": {"type": "http", "scheme": "basic", "description": "A registered device: its id and secret (the MQTT credentials)"},
                                     "session": {"type": "apiKey", "in": "cookie", "name": "guichet_session", "description": "A browser signed in at /login; a state-changing request also sends the session's CSRF token in X-CSRF-Token"}},
                 "schemas": schemas, "responses": responses},
}
out = os.path.join(os.path.dirname(__file__), "..", "hub", "httpapi", "openapi.json")
with open(out, "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")
