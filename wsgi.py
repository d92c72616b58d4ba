from zarts import create_app

app = create_app()
