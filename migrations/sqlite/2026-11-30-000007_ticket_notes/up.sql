-- Internal notes (内部备注) on a ticket: between the hotline's staff and the ticket's units,
-- never part of the ticket's timeline, which integrations and citizens' channels follow.
CREATE TABLE ticket_notes (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    body TEXT NOT NULL,
    written_by TEXT NOT NULL REFERENCES users (id),
    unit_id TEXT REFERENCES units (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_notes_ticket_idx ON ticket_notes (ticket_id, id);
