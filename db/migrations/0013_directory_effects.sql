CREATE TYPE "public"."effect_state" AS ENUM('pending', 'applied', 'failed', 'conflict');--> statement-breakpoint
CREATE TABLE "directory_effects" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "directory_effects_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"payload_version" integer DEFAULT 1 NOT NULL,
	"state" "effect_state" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"leased_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	"correlation_id" text
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "directory_id" text;--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "directory_group" text;--> statement-breakpoint
ALTER TABLE "directory_effects" ADD CONSTRAINT "directory_effects_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "directory_effects_account_idx" ON "directory_effects" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "directory_effects_pending_idx" ON "directory_effects" USING btree ("available_at") WHERE state = 'pending';