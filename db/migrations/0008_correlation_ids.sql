ALTER TABLE "deliveries" ADD COLUMN "correlation_id" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "correlation_id" text;