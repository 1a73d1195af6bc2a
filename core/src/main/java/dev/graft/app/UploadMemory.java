package dev.graft.app;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes a server holds for uploads at once, being received or received and waiting for a prediction: an upload
 * reserves its chunks before it reads into them, and an upload that would not fit is refused (503), so a flood of
 * uploads cannot hold more heap than the budget.
 */
final class UploadMemory {
    private final long budget;
    private final AtomicLong held = new AtomicLong();

    UploadMemory(long budget) {
        this.budget = budget;
    }

    /** Whether {@code bytes} more would fit now (a check at the headers; the chunks are reserved as they come). */
    boolean fits(long bytes) {
        return held.get() + bytes <= budget;
    }

    /** Takes {@code bytes} from the budget, or nothing and false when they do not fit. */
    boolean reserve(long bytes) {
        while (true) {
            long h = held.get();
            if (h + bytes > budget) {
                return false;
            }
            if (held.compareAndSet(h, h + bytes)) {
                return true;
            }
        }
    }

    /** Gives {@code bytes} back (negative: takes them without a check, as when a body replaces its larger chunks). */
    void release(long bytes) {
        held.addAndGet(-bytes);
    }

    long held() {
        return held.get();
    }

    String busyMessage() {
        return "busy: the uploads being received and waiting hold " + Answers.mb(held.get()) + " of this server's " + Answers.mb(budget)
                + " for uploads; try again";
    }
}
