package dev.graft.train;

/** A request to stop after the current batch (Ctrl-C); the run writes its checkpoint first. Passed in, never global. */
public final class StopSignal {
    private volatile boolean requested;

    public void request() {
        requested = true;
    }

    public boolean requested() {
        return requested;
    }
}
