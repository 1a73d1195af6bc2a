package dev.graft.train;

import java.util.function.LongSupplier;

/** A bound on a run's wall-clock seconds, counted from its start (AutoGluon's {@code time_limit}); 0 is none. */
public final class Deadline {
    private final double limitSeconds;
    private final long start;
    private final LongSupplier clock;

    public Deadline(double limitSeconds) {
        this(limitSeconds, System.nanoTime(), System::nanoTime);
    }

    public Deadline(double limitSeconds, long startNanos) {
        this(limitSeconds, startNanos, System::nanoTime);
    }

    /** A deadline on another clock of nanoseconds (a test's, which it advances itself). */
    public Deadline(double limitSeconds, long startNanos, LongSupplier clock) {
        this.limitSeconds = limitSeconds;
        this.start = startNanos;
        this.clock = clock;
    }

    public boolean limited() {
        return limitSeconds > 0;
    }

    public double limitSeconds() {
        return limitSeconds;
    }

    /** Seconds since the start, on this deadline's clock. */
    public double elapsed() {
        return (clock.getAsLong() - start) / 1e9;
    }

    /** Seconds left (infinite without a limit). */
    public double remaining() {
        return limited() ? limitSeconds - elapsed() : Double.POSITIVE_INFINITY;
    }

    public boolean expired() {
        return limited() && remaining() <= 0;
    }
}
