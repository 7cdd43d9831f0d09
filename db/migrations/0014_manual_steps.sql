CREATE TABLE "manual_steps" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "manual_steps_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org" text NOT NULL,
	"address" text NOT NULL,
	"kind" text NOT NULL,
	"instructions" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" text
);
--> statement-breakpoint
ALTER TABLE "manual_steps" ADD CONSTRAINT "manual_steps_org_organisations_ods_fk" FOREIGN KEY ("org") REFERENCES "public"."organisations"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "manual_steps_open_idx" ON "manual_steps" USING btree ("org") WHERE done_at is null;