DROP INDEX "contacts_wa_id_idx";--> statement-breakpoint
CREATE INDEX "contacts_wa_id_idx" ON "contacts" USING btree ("wa_id") WHERE "contacts"."wa_id" is not null;