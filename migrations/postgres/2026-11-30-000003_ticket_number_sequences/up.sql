-- Ticket numbers on PostgreSQL come from a sequence per day instead of the counter row of the
-- day: a counter row is locked by each registration until its commit has been flushed, so
-- registrations queued behind one another's flush and the server could not combine their
-- commits. A sequence hands out a number without a lock held to commit, at the price of gaps:
-- a number taken by a registration that then fails is not handed out again, and after a crash
-- the sequence may skip ahead. SQLite keeps the counter rows: its one writer holds no other
-- writer back with them. The counter rows stay the record of the days numbered before.
CREATE FUNCTION ticket_sequence(numbered date) RETURNS regclass LANGUAGE plpgsql AS $$
DECLARE
    name text := 'ticket_numbers_' || to_char(numbered, 'YYYYMMDD');
    sequence regclass := to_regclass(name);
BEGIN
    IF sequence IS NOT NULL THEN
        RETURN sequence;
    END IF;
    -- The day's first registration: the sequence starts after what the counter handed out.
    -- Two first registrations at once: the second waits for the first to commit its sequence
    -- and then uses it.
    BEGIN
        EXECUTE format(
            'CREATE SEQUENCE %I START WITH %s', name,
            COALESCE((SELECT d.last_value + 1 FROM ticket_number_days d WHERE d.day = to_char(numbered, 'YYYY-MM-DD')), 1)
        );
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL;
    END;
    RETURN to_regclass(name);
END;
$$;
