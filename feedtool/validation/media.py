def check_media(ctx):
    return None
