-- 二级转办: a unit forwards its assignment to one of its sub-units, which works on it in the
-- unit's name. The forwarded assignment is a row of its own (the sub-unit sees the ticket as
-- any unit sees its work) that names the assignment it came from.
ALTER TABLE assignments DROP CONSTRAINT assignments_role_check;
ALTER TABLE assignments ADD CONSTRAINT assignments_role_check CHECK (role IN ('primary', 'assisting', 'forwarded'));
ALTER TABLE assignments ADD COLUMN forwarded_from_id TEXT REFERENCES assignments (id);
