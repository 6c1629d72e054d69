; scripts/bench's floor trampoline (floor_trampoline.asm), a flat binary embedded like the
; kernel's own (smp/trampoline_blob.asm); in the floor build only.
section .trampoline progbits alloc noexec nowrite align=16
global floor_blob_start, floor_blob_end
floor_blob_start:
    incbin "floor_trampoline.bin"
floor_blob_end:
