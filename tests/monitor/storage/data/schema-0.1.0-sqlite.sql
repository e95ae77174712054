-- The schema commwatch 0.1.0 made (metadata.create_all), sqlite: frozen for the adoption test.

CREATE TABLE dispatch_notices (
	id INTEGER NOT NULL, 
	dedupe_key VARCHAR(200) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	incident_id INTEGER, 
	group_key VARCHAR(120), 
	created_at DATETIME NOT NULL, 
	due_at DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	superseded_by INTEGER, 
	routed_at DATETIME, 
	deliveries INTEGER NOT NULL, 
	assessment JSON, 
	context JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (dedupe_key)
);

CREATE INDEX ix_dispatch_notices_due ON dispatch_notices (status, due_at);

CREATE INDEX ix_dispatch_notices_group ON dispatch_notices (group_key, status);

CREATE INDEX ix_dispatch_notices_incident ON dispatch_notices (incident_id);

CREATE TABLE incidents (
	id INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	title TEXT NOT NULL, 
	opened_at DATETIME NOT NULL, 
	detected_at DATETIME NOT NULL, 
	report_submitted_at DATETIME, 
	scenario INTEGER, 
	level VARCHAR(4), 
	assessment JSON, 
	restored_at DATETIME, 
	warning_scenario INTEGER, 
	warning_issuer VARCHAR(64), 
	warning_issuer_name TEXT, 
	warning_issued_at DATETIME, 
	warning_lifted_at DATETIME, 
	response_level VARCHAR(4), 
	response_starter VARCHAR(64), 
	response_starter_name TEXT, 
	response_started_at DATETIME, 
	response_ended_at DATETIME, 
	transferred_to TEXT, 
	closed_at DATETIME, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_incidents_source_id ON incidents (source, id);

CREATE INDEX ix_incidents_status ON incidents (status);

CREATE TABLE node_states (
	node_id VARCHAR(64) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	since DATETIME, 
	reason TEXT NOT NULL, 
	failed_streak INTEGER NOT NULL, 
	bad_streak INTEGER NOT NULL, 
	good_streak INTEGER NOT NULL, 
	answered_streak INTEGER NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (node_id)
);

CREATE TABLE nodes (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	system VARCHAR(64) NOT NULL, 
	address VARCHAR(64) NOT NULL, 
	street TEXT, 
	critical BOOLEAN NOT NULL, 
	probes JSON NOT NULL, 
	primary_probe VARCHAR(16) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	removed_at DATETIME, 
	PRIMARY KEY (id)
);

CREATE TABLE probe_samples (
	id INTEGER NOT NULL, 
	node_id VARCHAR(64) NOT NULL, 
	probe VARCHAR(16) NOT NULL, 
	at DATETIME NOT NULL, 
	ok BOOLEAN NOT NULL, 
	rtt_ms FLOAT, 
	loss FLOAT, 
	error TEXT, 
	degraded BOOLEAN NOT NULL, 
	detail TEXT, 
	"values" JSON, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_probe_samples_at ON probe_samples (at);

CREATE INDEX ix_probe_samples_node_at ON probe_samples (node_id, at);

CREATE TABLE state_changes (
	id INTEGER NOT NULL, 
	node_id VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	previous VARCHAR(16) NOT NULL, 
	current VARCHAR(16) NOT NULL, 
	reason TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_state_changes_at ON state_changes (at);

CREATE INDEX ix_state_changes_node_at ON state_changes (node_id, at);

CREATE TABLE dispatch_deliveries (
	id INTEGER NOT NULL, 
	notice_id INTEGER NOT NULL, 
	dedupe_key VARCHAR(200) NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	address VARCHAR(320) NOT NULL, 
	recipient_key VARCHAR(200) NOT NULL, 
	recipient TEXT NOT NULL, 
	stage INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	lease_until DATETIME, 
	subject TEXT NOT NULL, 
	body TEXT NOT NULL, 
	html TEXT, 
	notifier VARCHAR(64), 
	gateway_id TEXT, 
	detail TEXT, 
	last_error TEXT, 
	permanent BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_dispatch_delivery UNIQUE (dedupe_key, channel, address), 
	FOREIGN KEY(notice_id) REFERENCES dispatch_notices (id)
);

CREATE INDEX ix_dispatch_deliveries_due ON dispatch_deliveries (status, next_attempt_at);

CREATE INDEX ix_dispatch_deliveries_notice ON dispatch_deliveries (notice_id, recipient_key);

CREATE TABLE incident_events (
	id INTEGER NOT NULL, 
	incident_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	actor VARCHAR(64), 
	actor_name TEXT, 
	note TEXT NOT NULL, 
	data JSON NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);

CREATE INDEX ix_incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE notice_requests (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	incident_id INTEGER, 
	dedupe_key VARCHAR(200) NOT NULL, 
	assessment JSON, 
	context JSON NOT NULL, 
	taken_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id), 
	UNIQUE (dedupe_key)
);

CREATE INDEX ix_notice_requests_pending ON notice_requests (taken_at, id);
