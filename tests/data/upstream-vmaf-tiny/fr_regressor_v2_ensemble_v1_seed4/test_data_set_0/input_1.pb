Bcodec_onehotJ8yé¦?æsr?þ'4¿Uù¡¿êŽ¿nE)=NÍÀì
`¾zŸ¿àu;¿T¿ò¡¾=ÁÒ>q…?