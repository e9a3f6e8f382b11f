ALTER TABLE "contacts" ADD COLUMN "search_text" text;--> statement-breakpoint
ALTER TABLE "import_row_errors" ADD COLUMN "code" text;--> statement-breakpoint
CREATE INDEX "contacts_search_trgm_idx" ON "contacts" USING gin ("search_text" gin_trgm_ops) WHERE "contacts"."search_text" is not null;--> statement-breakpoint
CREATE INDEX "contacts_search_pending_idx" ON "contacts" USING btree ("id") WHERE "contacts"."search_text" is null;--> statement-breakpoint
CREATE INDEX "contacts_tags_idx" ON "contacts" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "contacts_opted_out_idx" ON "contacts" USING btree ("id") WHERE "contacts"."opted_out_at" is not null;