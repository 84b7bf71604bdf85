-- The channels an office counts its requests by, defined by its administrator. Each is of one of
-- the eight fixed kinds that integrations and the event feed go by; the eight channels every
-- hotline starts with carry their kind as their code, so tickets and clients that name a kind
-- name a channel.
CREATE TABLE channels (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'web', 'wechat', 'app', 'mailbox', 'upper_platform', 'open311', 'other')),
    bulletin_row TEXT NOT NULL,
    own_section BOOLEAN NOT NULL,
    sort_order INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO channels (code, name, kind, bulletin_row, own_section, sort_order, active, created_at, updated_at) VALUES
    ('phone', '12345电话', 'phone', '12345电话', FALSE, 10, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('web', '网站留言', 'web', '网站留言', FALSE, 20, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('wechat', '微信', 'wechat', '微信', FALSE, 30, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('app', '手机APP', 'app', '手机APP', FALSE, 40, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('mailbox', '领导信箱', 'mailbox', '领导信箱', FALSE, 50, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('upper_platform', '上级交办', 'upper_platform', '上级交办', FALSE, 60, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('open311', '开放接口', 'open311', '开放接口', FALSE, 70, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('other', '其他渠道', 'other', '其他渠道', FALSE, 80, TRUE, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'));

-- Channels are never deleted (an inactive one takes no new tickets). The default fills the
-- column without rewriting the table; only tickets of other channels are updated, and then the
-- default goes, so that no registration can leave the code out.
ALTER TABLE tickets ADD COLUMN channel_code TEXT NOT NULL DEFAULT 'phone' REFERENCES channels (code);
UPDATE tickets SET channel_code = channel WHERE channel <> 'phone';
ALTER TABLE tickets ALTER COLUMN channel_code DROP DEFAULT;

-- A channel's tickets by time: the section of a channel reported apart reads its callbacks
-- from them.
CREATE INDEX tickets_channel_idx ON tickets (channel_code, created_at, id);

-- The bulletin counts registrations by channel code now.
DROP INDEX tickets_volume_idx;
CREATE INDEX tickets_volume_idx ON tickets (created_at) INCLUDE (channel_code, ticket_type, category_id, area_unit_id, status, current_round);
