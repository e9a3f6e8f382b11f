CREATE TABLE "broadcast_counter_deltas" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "broadcast_counter_deltas_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"broadcast_id" uuid NOT NULL,
	"state" "recipient_state" NOT NULL,
	"delta" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "broadcast_recipients" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "broadcast_counter_deltas" ADD CONSTRAINT "broadcast_counter_deltas_broadcast_id_broadcasts_id_fk" FOREIGN KEY ("broadcast_id") REFERENCES "public"."broadcasts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "broadcast_counter_deltas_broadcast_idx" ON "broadcast_counter_deltas" USING btree ("broadcast_id","state");--> statement-breakpoint
CREATE INDEX "broadcast_recipients_queued_idx" ON "broadcast_recipients" USING btree ("broadcast_id","id") WHERE "broadcast_recipients"."state" = 'queued';--> statement-breakpoint
CREATE INDEX "broadcast_recipients_open_idx" ON "broadcast_recipients" USING btree ("claimed_at") WHERE "broadcast_recipients"."state" in ('sending', 'unknown');--> statement-breakpoint
CREATE INDEX "broadcast_recipients_sent_at_idx" ON "broadcast_recipients" USING btree ("sent_at") WHERE "broadcast_recipients"."sent_at" is not null;--> statement-breakpoint
ALTER TABLE "sender_rate_buckets" DROP COLUMN "tokens";--> statement-breakpoint
-- Per-state counters of each broadcast's ledger, maintained for every writer (dispatcher,
-- webhooks, cancel) by statement-level triggers that append one signed delta per
-- (broadcast, state) a statement touched. Appending instead of updating a counter row means
-- concurrent writers never wait on one another or deadlock.
CREATE FUNCTION "broadcast_recipients_count_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO "broadcast_counter_deltas" ("broadcast_id", "state", "delta")
		SELECT "broadcast_id", "state", count(*) FROM "new_rows" GROUP BY 1, 2;
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO "broadcast_counter_deltas" ("broadcast_id", "state", "delta")
		SELECT "broadcast_id", "state", sum("d") FROM (
			SELECT "broadcast_id", "state", 1 AS "d" FROM "new_rows"
			UNION ALL
			SELECT "broadcast_id", "state", -1 AS "d" FROM "old_rows"
		) AS "changes"
		GROUP BY 1, 2
		HAVING sum("d") <> 0;
	ELSE
		-- A cascade from a deleted broadcast leaves nothing to count.
		INSERT INTO "broadcast_counter_deltas" ("broadcast_id", "state", "delta")
		SELECT "o"."broadcast_id", "o"."state", -count(*) FROM "old_rows" AS "o"
		WHERE EXISTS (SELECT 1 FROM "broadcasts" AS "b" WHERE "b"."id" = "o"."broadcast_id")
		GROUP BY 1, 2;
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_count_insert" AFTER INSERT ON "broadcast_recipients"
	REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_count_changes"();--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_count_update" AFTER UPDATE ON "broadcast_recipients"
	REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_count_changes"();--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_count_delete" AFTER DELETE ON "broadcast_recipients"
	REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_count_changes"();--> statement-breakpoint
-- The shared token bucket of a sender (see app/lib/sending/token-bucket.ts, whose `takeTokens`
-- is the specification this mirrors): one statement, the row locked only while it computes.
CREATE FUNCTION "take_sender_tokens"(
	"p_sender_id" uuid, "p_want" integer, "p_rate" double precision, "p_capacity" double precision,
	"p_recovery" double precision
) RETURNS TABLE (
	"granted" integer, "first_slot_at" timestamptz, "slot_rate" double precision, "clock" timestamptz
)
LANGUAGE plpgsql AS $$
DECLARE
	"b" "sender_rate_buckets"%ROWTYPE;
	"now" timestamptz;
	"rate" double precision;
	"start" timestamptz;
	"n" integer;
BEGIN
	INSERT INTO "sender_rate_buckets" ("sender_id", "current_rate", "refilled_at")
	VALUES ("p_sender_id", "p_rate", '-infinity') ON CONFLICT ("sender_id") DO NOTHING;
	SELECT * INTO "b" FROM "sender_rate_buckets" WHERE "sender_id" = "p_sender_id" FOR UPDATE;
	-- Read the clock after the lock, so grants are ordered like the clock.
	"now" := clock_timestamp();
	IF "b"."slowed_at" IS NULL THEN
		"rate" := "p_rate";
	ELSE
		"rate" := least("p_rate", "b"."current_rate"
			+ "p_recovery" * greatest(0, extract(epoch FROM "now" - "b"."slowed_at")));
	END IF;
	"start" := greatest("b"."refilled_at", "now");
	"n" := greatest(0, least("p_want"::double precision,
		floor("p_capacity" - extract(epoch FROM "start" - "now") * "rate" + 1e-9)))::integer;
	IF "n" > 0 THEN
		UPDATE "sender_rate_buckets"
		SET "refilled_at" = "start" + make_interval(secs => "n" / "rate")
		WHERE "sender_id" = "p_sender_id";
	END IF;
	RETURN QUERY SELECT "n", "start", "rate", "now";
END
$$;
