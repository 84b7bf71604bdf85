CREATE TABLE notifications_old (
    id TEXT PRIMARY KEY NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('unit', 'office')),
    unit_id TEXT REFERENCES units (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    read_by TEXT REFERENCES users (id),
    CHECK ((audience = 'unit' AND unit_id IS NOT NULL) OR (audience = 'office' AND unit_id IS NULL))
);
INSERT INTO notifications_old (id, audience, unit_id, ticket_id, kind, details, created_at, read_at, read_by)
    SELECT id, audience, unit_id, ticket_id, kind, details, created_at, read_at, read_by
    FROM notifications WHERE ticket_id IS NOT NULL;
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_unit_idx ON notifications (unit_id, id);
CREATE INDEX notifications_audience_idx ON notifications (audience, id);
DROP TABLE knowledge_citations;
DROP TABLE knowledge_article_versions;
DROP TABLE knowledge_articles;
