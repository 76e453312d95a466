// The built-in model, linked into the binary so that `serve`, `demo` and `tag` work with no
// model file at hand and an installed binary needs nothing beside it. The file is found
// through the target's header search path (Package.swift). After replacing the model file,
// touch this file (or clean the build) so that it is assembled again.
    .section .rodata
    .balign 64
    .global streamtag_default_model_start
    .global streamtag_default_model_end
streamtag_default_model_start:
    .incbin "default-model.safetensors"
streamtag_default_model_end:
    .section .note.GNU-stack,"",%progbits
