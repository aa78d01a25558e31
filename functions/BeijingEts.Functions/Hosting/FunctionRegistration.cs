using System.Reflection;

namespace BeijingEts.Functions.Hosting;

public static class FunctionRegistration
{
    /// <summary>Registers every queue and timer function in the assemblies, plus the catalog that lists them.</summary>
    public static IServiceCollection AddFunctions(this IServiceCollection services, params Assembly[] assemblies)
    {
        foreach (var function in FunctionCatalog.Discover(assemblies).Functions)
        {
            services.AddFunction(function.Type);
        }
        services.AddSingleton(sp => new FunctionCatalog(sp.GetServices<FunctionDescriptor>()));
        return services;
    }

    /// <summary>Registers one more function class (a test's or a benchmark's) beside the app's own.</summary>
    public static IServiceCollection AddFunction(this IServiceCollection services, Type type)
    {
        var descriptor = FunctionCatalog.Describe(type)
            ?? throw new InvalidOperationException($"{type.Name} is neither a queue nor a timer function.");
        services.AddSingleton(descriptor);
        services.AddScoped(type);
        return services;
    }

    /// <summary>Maps every <see cref="IHttpFunction"/> in the assembly onto the /api group.</summary>
    public static void MapHttpFunctions(this IEndpointRouteBuilder api, Assembly assembly)
    {
        var functions = assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsClass: true } && typeof(IHttpFunction).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var type in functions)
        {
            var map = type.GetMethod(nameof(IHttpFunction.Map), BindingFlags.Public | BindingFlags.Static, [typeof(IEndpointRouteBuilder)])
                ?? throw new InvalidOperationException($"{type.Name} has no public static Map(IEndpointRouteBuilder).");
            map.Invoke(null, [api]);
        }
    }
}
