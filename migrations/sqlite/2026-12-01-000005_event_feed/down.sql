ALTER TABLE ticket_events DROP COLUMN transaction_id;
