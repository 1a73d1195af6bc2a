package dev.graft.weights;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A pickle reader that only resolves the Python globals on an explicit allowlist, in the spirit of
 * {@code torch.load(weights_only=True)}. Any other global stops the load with an error naming it. Nothing is
 * ever executed: allowlisted globals map to small Java constructors, never to Python code.
 */
public class SafeUnpickler extends Unpickler {

    /** Thrown when a pickle asks for a global that is not on the allowlist. */
    public static final class ForbiddenGlobalException extends PickleException {
        private final String global;

        public ForbiddenGlobalException(String global) {
            super("refused Python global '" + global + "': it is not on graft's allowlist of tensor-rebuilding "
                    + "globals (nothing was executed)");
            this.global = global;
        }

        public String global() {
            return global;
        }
    }

    /** An allowlisted object that accepts pickle state (the BUILD opcode). */
    public interface Stateful {
        void setState(Object state);
    }

    private final Map<String, IObjectConstructor> allowed;
    private final Function<Object, Object> persistentLoader;
    private final byte[] bytes;
    private ByteArrayInputStream in;

    /**
     * @param bytes the whole pickle (kept in memory so declared lengths can be checked before allocating)
     * @param allowed "module.name" to constructor
     * @param persistentLoader resolves persistent ids (torch storages); null to refuse them
     */
    public SafeUnpickler(byte[] bytes, Map<String, IObjectConstructor> allowed, Function<Object, Object> persistentLoader) {
        this.bytes = bytes;
        this.allowed = allowed;
        this.persistentLoader = persistentLoader;
    }

    public Object load() throws IOException {
        in = new ByteArrayInputStream(bytes);
        try {
            return load(in);
        } catch (ClassCastException | IndexOutOfBoundsException | NullPointerException | NumberFormatException e) {
            // Pyrolite signals malformed streams with runtime exceptions; report them as what they are.
            throw new PickleException("malformed pickle: " + e, e);
        } finally {
            close();
        }
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(in);
                String name = PickleUtils.readline(in);
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                if (!(name instanceof String) || !(module instanceof String)) {
                    throw new PickleException("malformed pickle: STACK_GLOBAL without module and name strings");
                }
                stack.add(resolve((String) module, (String) name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.INST, Opcodes.OBJ, Opcodes.EXT1, Opcodes.EXT2, Opcodes.EXT4 ->
                throw new PickleException("refused pickle opcode " + opcodeName(key)
                        + ": it can build arbitrary objects and is never needed for tensors (nothing was executed)");
            case Opcodes.BUILD -> {
                // only allowlisted objects may receive state, and only through their own Java method
                Object state = stack.pop();
                Object target = stack.peek();
                if (!(target instanceof Stateful st)) {
                    throw new PickleException("refused to set state on a "
                            + (target == null ? "None" : target.getClass().getSimpleName()) + " (nothing was executed)");
                }
                st.setState(state);
                return NO_RETURN_VALUE;
            }
            case Opcodes.EMPTY_DICT -> {
                stack.add(new LinkedHashMap<Object, Object>());
                return NO_RETURN_VALUE;
            }
            case Opcodes.SETITEMS -> {
                // Pyrolite collects into a HashMap first; a state_dict's order matters, so keep it
                List<Object> kv = stack.pop_all_since_marker();
                if (kv.size() % 2 != 0) {
                    throw new PickleException("malformed pickle: SETITEMS with an odd number of items");
                }
                Object target = stack.peek();
                if (!(target instanceof Map)) {
                    throw new PickleException("malformed pickle: SETITEMS on a " + (target == null ? "None" : target.getClass().getSimpleName()));
                }
                @SuppressWarnings("unchecked")
                Map<Object, Object> dict = (Map<Object, Object>) target;
                for (int i = 0; i < kv.size(); i += 2) {
                    dict.put(kv.get(i), kv.get(i + 1));
                }
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINSTRING, Opcodes.BINUNICODE, Opcodes.BINBYTES, Opcodes.LONG4 -> checkLength(4);
            case Opcodes.BINUNICODE8, Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> checkLength(8);
            default -> {
            }
        }
        return super.dispatch(key);
    }

    /** Refuses a declared length that runs past the end of the pickle, before Pyrolite allocates it. */
    private void checkLength(int width) {
        in.mark(16);
        long len = 0;
        for (int i = 0; i < width; i++) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            len |= ((long) b) << (8 * i);
        }
        in.reset();
        if (len < 0 || len > in.available() - width) {
            throw new PickleException("malformed pickle: a value declares " + len + " bytes but only "
                    + Math.max(0, in.available() - width) + " remain");
        }
    }

    private IObjectConstructor resolve(String module, String name) {
        IObjectConstructor c = allowed.get(module + "." + name);
        if (c == null) {
            throw new ForbiddenGlobalException(module + "." + name);
        }
        return c;
    }

    @Override
    protected Object persistentLoad(Object pid) throws PickleException {
        if (persistentLoader == null) {
            throw new PickleException("unexpected persistent id in pickle");
        }
        return persistentLoader.apply(pid);
    }

    private static String opcodeName(short key) {
        return switch (key) {
            case Opcodes.INST -> "INST";
            case Opcodes.OBJ -> "OBJ";
            default -> "EXT";
        };
    }
}
