package dev.graft.data;

/** A data folder that cannot be used as it is; the message says what to change. */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }
}
