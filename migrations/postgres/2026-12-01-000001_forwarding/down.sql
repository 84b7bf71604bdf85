DELETE FROM unit_tickets WHERE NOT EXISTS (
    SELECT 1 FROM assignments a WHERE a.ticket_id = unit_tickets.ticket_id AND a.unit_id = unit_tickets.unit_id AND a.role <> 'forwarded'
);
UPDATE ticket_events SET assignment_id = NULL WHERE assignment_id IN (SELECT id FROM assignments WHERE role = 'forwarded');
DELETE FROM assignments WHERE role = 'forwarded';
ALTER TABLE assignments DROP COLUMN forwarded_from_id;
ALTER TABLE assignments DROP CONSTRAINT assignments_role_check;
ALTER TABLE assignments ADD CONSTRAINT assignments_role_check CHECK (role IN ('primary', 'assisting'));
