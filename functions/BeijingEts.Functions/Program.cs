using BeijingEts.Functions;

// publish.sh asks the app for its function.json files, so they always match the code.
if (args is ["--write-function-metadata", var outputDirectory])
{
    foreach (var path in FunctionMetadataWriter.Write(FunctionCatalog.Discover(typeof(EtsApp).Assembly), outputDirectory))
    {
        Console.WriteLine(path);
    }
    return 0;
}

try
{
    await EtsApp.Build(args).RunAsync();
    return 0;
}
catch (Exception error)
{
    await Console.Error.WriteLineAsync(StartupFailure.Describe(error) ?? error.ToString());
    return 1;
}
