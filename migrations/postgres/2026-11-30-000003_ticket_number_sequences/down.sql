-- The counter rows take over again from where each day's sequence got to.
DO $$
DECLARE
    sequence record;
    reached bigint;
BEGIN
    FOR sequence IN
        SELECT c.relname FROM pg_class c
        WHERE c.relkind = 'S' AND c.relname ~ '^ticket_numbers_[0-9]{8}$'
          AND pg_table_is_visible(c.oid)
    LOOP
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %I', sequence.relname)
            INTO reached;
        INSERT INTO ticket_number_days (day, last_value)
        VALUES (to_char(to_date(right(sequence.relname, 8), 'YYYYMMDD'), 'YYYY-MM-DD'), reached)
        ON CONFLICT (day) DO UPDATE SET last_value = GREATEST(ticket_number_days.last_value, excluded.last_value);
        EXECUTE format('DROP SEQUENCE %I', sequence.relname);
    END LOOP;
END;
$$;
DROP FUNCTION ticket_sequence(date);
