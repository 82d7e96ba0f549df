-- CreateTable: how the head-movement challenge does in the field, as daily counters per surface (started, passed,
-- refused, refused by reason, time-to-complete buckets, passes after a refusal). No frames, scores or people.
CREATE TABLE "challenge_daily_counts" (
    "day" TIMESTAMP(3) NOT NULL,
    "surface" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "challenge_daily_counts_pkey" PRIMARY KEY ("day","surface","name")
);
