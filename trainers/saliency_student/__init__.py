"""The saliency student: a tiny U-Net trained to regenerate saliency_student_v1 and saliency_student_v2."""
