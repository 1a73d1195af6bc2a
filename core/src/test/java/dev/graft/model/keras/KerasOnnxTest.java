package dev.graft.model.keras;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every activation the Keras import runs has an ONNX form, by the same name (OnnxExportTest runs each). */
class KerasOnnxTest {
    @Test
    void everyImportedActivationExports() {
        assertEquals(KerasLayers.ACTIVATIONS.keySet(), KerasLayers.ONNX_ACTIVATIONS.keySet());
    }
}
