ALTER TYPE "public"."account_status" ADD VALUE 'disabled' BEFORE 'inactive';--> statement-breakpoint
ALTER TYPE "public"."warning_clock" ADD VALUE 'pending';--> statement-breakpoint
ALTER TYPE "public"."warning_clock" ADD VALUE 'disabled';--> statement-breakpoint
ALTER TYPE "public"."warning_clock" ADD VALUE 'disabled-until';--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "disabled_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "accounts_disabled_due_idx" ON "accounts" USING btree ("disabled_at") WHERE disabled_at is not null;--> statement-breakpoint
CREATE INDEX "accounts_disabled_until_idx" ON "accounts" USING btree ("disabled_until") WHERE disabled_until is not null;