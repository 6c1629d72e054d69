; The AP trampoline, assembled as a flat binary by the build and embedded here.
section .trampoline progbits alloc noexec nowrite align=16
global trampoline_blob_start, trampoline_blob_end
trampoline_blob_start:
    incbin "trampoline.bin"
trampoline_blob_end:
