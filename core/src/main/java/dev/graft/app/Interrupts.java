package dev.graft.app;

import dev.graft.train.StopSignal;

import java.io.PrintStream;

/** The command line's Ctrl-C: finish the batch, write a checkpoint, exit; and whether a person is watching. */
final class Interrupts {
    private Interrupts() {
    }

    /** Ctrl-C: finish the batch, write a checkpoint, exit; a second Ctrl-C exits at once. */
    static StopSignal interruptible(PrintStream console) {
        StopSignal stop = new StopSignal();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                if (stop.requested()) {
                    console.println("\ngraft: interrupted again, exiting without a checkpoint");
                    Runtime.getRuntime().halt(130);
                }
                console.println("\ngraft: stopping after this batch and writing a checkpoint (Ctrl-C again to quit at once)");
                stop.request();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal support on this platform: Ctrl-C ends the JVM as usual
        }
        return stop;
    }

    static boolean interactive() {
        return System.console() != null;
    }
}
