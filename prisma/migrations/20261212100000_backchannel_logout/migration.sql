-- AlterTable: OpenID Connect Back-Channel Logout 1.0 per client (none until an administrator registers a URI).
ALTER TABLE "clients" ADD COLUMN "backchannel_logout_uri" TEXT;
ALTER TABLE "clients" ADD COLUMN "backchannel_logout_session_required" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable: logout notifications waiting for delivery, drained by every instance.
CREATE TABLE "backchannel_logouts" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "account_id" UUID NOT NULL,
    "sid" TEXT,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "due_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backchannel_logouts_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "backchannel_logouts_due_at_idx" ON "backchannel_logouts"("due_at");
