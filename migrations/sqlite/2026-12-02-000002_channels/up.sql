-- The channels an office counts its requests by, defined by its administrator. Each is of one of
-- the eight fixed kinds that integrations and the event feed go by; the eight channels every
-- hotline starts with carry their kind as their code, so tickets and clients that name a kind
-- name a channel.
CREATE TABLE channels (
    code TEXT PRIMARY KEY NOT NULL,
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
    ('phone', '12345电话', 'phone', '12345电话', 0, 10, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('web', '网站留言', 'web', '网站留言', 0, 20, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('wechat', '微信', 'wechat', '微信', 0, 30, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('app', '手机APP', 'app', '手机APP', 0, 40, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('mailbox', '领导信箱', 'mailbox', '领导信箱', 0, 50, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('upper_platform', '上级交办', 'upper_platform', '上级交办', 0, 60, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('open311', '开放接口', 'open311', '开放接口', 0, 70, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ('other', '其他渠道', 'other', '其他渠道', 0, 80, 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'));

-- Channels are never deleted (an inactive one takes no new tickets), so the code a ticket
-- keeps always names a definition; it is checked on registration.
ALTER TABLE tickets ADD COLUMN channel_code TEXT NOT NULL DEFAULT 'phone';
UPDATE tickets SET channel_code = channel WHERE channel <> 'phone';

-- A channel's tickets by time: the section of a channel reported apart reads its callbacks
-- from them.
CREATE INDEX tickets_channel_idx ON tickets (channel_code, created_at, id);

-- The bulletin counts registrations by channel code now.
DROP INDEX tickets_volume_idx;
CREATE INDEX tickets_volume_idx ON tickets (created_at, channel_code, ticket_type, category_id, area_unit_id, status, current_round);
