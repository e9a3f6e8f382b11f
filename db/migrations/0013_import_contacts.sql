CREATE TABLE "import_contacts" (
	"import_id" uuid NOT NULL,
	"contact_id" bigint NOT NULL,
	CONSTRAINT "import_contacts_import_id_contact_id_pk" PRIMARY KEY("import_id","contact_id")
);
--> statement-breakpoint
ALTER TABLE "import_contacts" ADD CONSTRAINT "import_contacts_import_id_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."imports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "import_contacts" ADD CONSTRAINT "import_contacts_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "import_contacts_contact_id_idx" ON "import_contacts" USING btree ("contact_id");