package dev.graft.app;

import java.util.concurrent.Semaphore;

/**
 * Grad-CAM heat maps ({@code ?explain=1}: a second forward, a backward and a PNG) have their own small budget, taken
 * with the request and outside the prediction slots, so a handful of explain requests cannot starve plain
 * predictions; beyond it 503 with Retry-After. The operator can turn heat maps off ({@code serve --no-explain}: 403).
 */
final class ExplainBudget {
    private final boolean on;
    private final int concurrent;
    private final Semaphore slots;

    ExplainBudget(boolean on, int concurrent) {
        this.on = on;
        this.concurrent = concurrent;
        this.slots = new Semaphore(concurrent);
    }

    boolean on() {
        return on;
    }

    /** The heat-map slots (tests hold them to see the busy answer). */
    Semaphore slots() {
        return slots;
    }

    /** A slot now, or false (no waiting: the client is told to retry). */
    boolean tryAcquire() {
        return slots.tryAcquire();
    }

    void release() {
        slots.release();
    }

    static String offMessage() {
        return "heat maps (?explain=1) are turned off on this server (serve --no-explain); ask without explain=1";
    }

    String busyMessage() {
        return "busy: " + concurrent + " heat map(s) (?explain=1) are being computed, the most this server computes at once; "
                + "try again, or ask without explain=1";
    }
}
