print('download')
