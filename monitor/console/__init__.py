"""The duty console: a Starlette app served by the daemon (pages in Chinese + a JSON API).

Rooms: `passwords` (argon2id hashes in the state directory), `sessions`
(signed cookies backed by a server-side table, CSRF tokens), `limits`
(sign-in attempts per person and address), `board` (the district at a
glance, pure), `actions` (the incident actions, each one IncidentEngine
call), `api` and `pages` (routes), `feed` (server-sent events), `server`
(uvicorn inside the daemon's event loop). Every rule about who may do what
is the incident engine's; the console only names the signed-in person.
"""
