CREATE TABLE "credential_deliveries" (
	"effect_id" bigint PRIMARY KEY NOT NULL,
	"account_id" integer NOT NULL,
	"route" text NOT NULL,
	"mobile_sealed" text,
	"starts_on" date,
	"notify" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"recipient" text
);
--> statement-breakpoint
ALTER TABLE "credential_deliveries" ADD CONSTRAINT "credential_deliveries_effect_id_directory_effects_id_fk" FOREIGN KEY ("effect_id") REFERENCES "public"."directory_effects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_deliveries" ADD CONSTRAINT "credential_deliveries_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;